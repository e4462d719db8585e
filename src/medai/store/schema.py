"""The database schema (SQLAlchemy 2 Core tables; Alembic migrations create them)."""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table,
                        Text)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
JsonType = JSON().with_variant(JSONB(), "postgresql")

resources = Table(
    "resources", metadata,
    Column("resource_type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), index=True),
    Column("version", Integer, nullable=False, default=1),
    Column("last_updated", DateTime(timezone=True), nullable=False),
    Column("body", JsonType, nullable=False),
    Index("ix_resources_patient_type", "patient_id", "resource_type"),
)

observations = Table(
    "observations", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("encounter_id", String(64)),
    Column("loinc", String(32)),
    Column("display", String(256)),
    Column("category", String(64)),
    Column("effective", DateTime(timezone=True)),
    Column("value", Float),
    Column("unit", String(64)),
    Column("value_text", Text),
    Index("ix_observations_patient_code_time", "patient_id", "loinc", "effective"),
)

predictions = Table(
    "predictions", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), index=True),
    Column("model_id", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("weights_sha256", String(64), nullable=False),
    Column("input_hash", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("value", Float),
    Column("label", String(128)),
    Column("threshold", Float),
    Column("explanation", JsonType, nullable=False),
)

users = Table(
    "users", metadata,
    Column("username", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256)),
    Column("patient_id", String(64)),
    Column("active", Boolean, nullable=False, default=True),
    Column("created", DateTime(timezone=True), nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(128), ForeignKey("users.username"), nullable=False, index=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("label", String(128)),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True)),
    Column("revoked", DateTime(timezone=True)),
)

cds_clients = Table(
    "cds_clients", metadata,
    Column("issuer", String(512), primary_key=True),
    Column("public_key_pem", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created", DateTime(timezone=True), nullable=False),
)

cds_feedback = Table(
    "cds_feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(128), nullable=False),
    Column("card_uuid", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("received", DateTime(timezone=True), nullable=False),
    Column("body", JsonType, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("patient_id", String(64), index=True),
    Column("model_id", String(128)),
    Column("model_version", String(64)),
    Column("weights_sha256", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

forecast_runs = Table(
    "forecast_runs", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("model_id", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("weights_sha256", String(64), nullable=False),
    Column("reference_date", Date, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("input_hash", String(64), nullable=False),
    Column("source", String(512)),
    Column("detail", JsonType, nullable=False),
    Index("ix_forecast_runs_kind_created", "kind", "created"),
)

forecast_values = Table(
    "forecast_values", metadata,
    Column("run_id", String(64), ForeignKey("forecast_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("series", String(128), primary_key=True),
    Column("horizon", Integer, primary_key=True),
    Column("level", Float, primary_key=True),
    Column("target_date", Date, nullable=False),
    Column("value", Float, nullable=False),
)

# -- assistant: appointments (Slot / Appointment resources live whole in `resources`; these index them) --

appointment_slots = Table(
    "appointment_slots", metadata,
    Column("id", String(64), primary_key=True),
    Column("schedule_id", String(64), nullable=False),
    Column("practitioner_id", String(64), nullable=False),
    Column("starts", DateTime(timezone=True), nullable=False),
    Column("ends", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_appointment_slots_practitioner_starts", "practitioner_id", "starts"),
)

appointments = Table(
    "appointments", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("practitioner_id", String(64), nullable=False),
    Column("slot_id", String(64), nullable=False),
    Column("starts", DateTime(timezone=True), nullable=False),
    Column("ends", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_appointments_patient_starts", "patient_id", "starts"),
    Index("ix_appointments_slot", "slot_id"),
)

# -- assistant: reminders, the in-app notification centre and medication adherence --

reminders = Table(
    "reminders", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source", String(160), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("due", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("title", String(256), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", DateTime(timezone=True)),
    Column("error", Text),
    Index("ux_reminders_occurrence", "source", "kind", "channel", "event_time", "due", unique=True),
    Index("ix_reminders_status_due", "status", "due"),
    Index("ix_reminders_patient_due", "patient_id", "due"),
)

notifications = Table(
    "notifications", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("reminder_id", String(64), unique=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("title", String(256), nullable=False),
    Column("body", Text, nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_notifications_patient_created", "patient_id", "created"),
)

adherence_events = Table(
    "adherence_events", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("medication_request_id", String(64), nullable=False),
    Column("scheduled_time", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("taken_at", DateTime(timezone=True)),
    Column("recorded", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("note", Text),
    Index("ux_adherence_dose", "medication_request_id", "scheduled_time", unique=True),
    Index("ix_adherence_patient_time", "patient_id", "scheduled_time"),
)

# -- assistant: conversations with consent and retention (messages are stored only with the patient's consent) --

assistant_consents = Table(
    "assistant_consents", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("version", String(32), nullable=False),
    Column("retention_days", Integer, nullable=False),
    Column("recorded", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Index("ix_assistant_consents_patient_recorded", "patient_id", "recorded"),
)

assistant_conversations = Table(
    "assistant_conversations", metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("consent_id", String(64)),
    Column("locale", String(16)),
    Column("risk", String(16), nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("flagged_at", DateTime(timezone=True)),
    Column("handoff_at", DateTime(timezone=True)),
    Column("state", JsonType),
    Index("ix_assistant_conversations_patient_updated", "patient_id", "updated"),
    Index("ix_assistant_conversations_flagged", "flagged", "updated"),
    Index("ix_assistant_conversations_expires", "expires"),
)

assistant_messages = Table(
    "assistant_messages", metadata,
    Column("conversation_id", String(64), ForeignKey("assistant_conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("sender", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("risk", String(16)),
    Column("screen", JsonType),
    Column("payload", JsonType),
)
