"""assistant conversations: consent records, conversations (risk, flag, state) and their messages

Revision ID: 0004_assistant_conversations
Revises: 0003_assistant_scheduling
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004_assistant_conversations'
down_revision = '0003_assistant_scheduling'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('assistant_consents',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('recorded', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_assistant_consents_patient_recorded', 'assistant_consents', ['patient_id', 'recorded'], unique=False)
    op.create_table('assistant_conversations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consent_id', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('risk', sa.String(length=16), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handoff_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', JSON, nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_assistant_conversations_patient_updated', 'assistant_conversations', ['patient_id', 'updated'], unique=False)
    op.create_index('ix_assistant_conversations_flagged', 'assistant_conversations', ['flagged', 'updated'], unique=False)
    op.create_index('ix_assistant_conversations_expires', 'assistant_conversations', ['expires'], unique=False)
    op.create_table('assistant_messages',
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sender', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('risk', sa.String(length=16), nullable=True),
    sa.Column('screen', JSON, nullable=True),
    sa.Column('payload', JSON, nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['assistant_conversations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'seq')
    )


def downgrade() -> None:
    op.drop_table('assistant_messages')
    op.drop_index('ix_assistant_conversations_expires', table_name='assistant_conversations')
    op.drop_index('ix_assistant_conversations_flagged', table_name='assistant_conversations')
    op.drop_index('ix_assistant_conversations_patient_updated', table_name='assistant_conversations')
    op.drop_table('assistant_conversations')
    op.drop_index('ix_assistant_consents_patient_recorded', table_name='assistant_consents')
    op.drop_table('assistant_consents')
