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
