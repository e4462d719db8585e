"""assistant scheduling: slot and appointment indexes, reminders, notifications, adherence

Revision ID: 0003_assistant_scheduling
Revises: 0002_forecasts
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_assistant_scheduling'
down_revision = '0002_forecasts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointment_slots',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('schedule_id', sa.String(length=64), nullable=False),
    sa.Column('practitioner_id', sa.String(length=64), nullable=False),
    sa.Column('starts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appointment_slots_practitioner_starts', 'appointment_slots', ['practitioner_id', 'starts'], unique=False)
    op.create_table('appointments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('practitioner_id', sa.String(length=64), nullable=False),
    sa.Column('slot_id', sa.String(length=64), nullable=False),
    sa.Column('starts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appointments_patient_starts', 'appointments', ['patient_id', 'starts'], unique=False)
    op.create_index('ix_appointments_slot', 'appointments', ['slot_id'], unique=False)
    op.create_table('reminders',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=160), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_reminders_occurrence', 'reminders', ['source', 'kind', 'channel', 'event_time', 'due'], unique=True)
    op.create_index('ix_reminders_status_due', 'reminders', ['status', 'due'], unique=False)
    op.create_index('ix_reminders_patient_due', 'reminders', ['patient_id', 'due'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('reminder_id', sa.String(length=64), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reminder_id')
    )
    op.create_index('ix_notifications_patient_created', 'notifications', ['patient_id', 'created'], unique=False)
    op.create_table('adherence_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('medication_request_id', sa.String(length=64), nullable=False),
    sa.Column('scheduled_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_adherence_dose', 'adherence_events', ['medication_request_id', 'scheduled_time'], unique=True)
    op.create_index('ix_adherence_patient_time', 'adherence_events', ['patient_id', 'scheduled_time'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_adherence_patient_time', table_name='adherence_events')
    op.drop_index('ux_adherence_dose', table_name='adherence_events')
    op.drop_table('adherence_events')
    op.drop_index('ix_notifications_patient_created', table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('ix_reminders_patient_due', table_name='reminders')
    op.drop_index('ix_reminders_status_due', table_name='reminders')
    op.drop_index('ux_reminders_occurrence', table_name='reminders')
    op.drop_table('reminders')
    op.drop_index('ix_appointments_slot', table_name='appointments')
    op.drop_index('ix_appointments_patient_starts', table_name='appointments')
    op.drop_table('appointments')
    op.drop_index('ix_appointment_slots_practitioner_starts', table_name='appointment_slots')
    op.drop_table('appointment_slots')
