"""forecast runs and their quantiles

Revision ID: 0002_forecasts
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002_forecasts'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_runs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('weights_sha256', sa.String(length=64), nullable=False),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=512), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('forecast_runs', schema=None) as batch_op:
        batch_op.create_index('ix_forecast_runs_kind_created', ['kind', 'created'], unique=False)

    op.create_table('forecast_values',
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('series', sa.String(length=128), nullable=False),
    sa.Column('horizon', sa.Integer(), nullable=False),
    sa.Column('level', sa.Float(), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['forecast_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'series', 'horizon', 'level')
    )


def downgrade() -> None:
    op.drop_table('forecast_values')
    with op.batch_alter_table('forecast_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_forecast_runs_kind_created')
    op.drop_table('forecast_runs')
