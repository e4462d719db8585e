"""Read and write whole FHIR resources in the store's ``resources`` table (validated, version-bumped)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, select

from medai.errors import NotFound
from medai.store.ingest import prepare, write
from medai.store.schema import resources


def utc(value: datetime) -> datetime:
    """An aware UTC datetime (SQLite hands timestamps back without a zone)."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def save(connection: Connection, items: list[dict]) -> None:
    """Validate (FHIR R4) and upsert resources in the caller's transaction; references must resolve."""
    write(connection, prepare(connection, [(f"{r['resourceType']}/{r.get('id', '')}", None, r) for r in items]))


def load(connection: Connection, resource_type: str, resource_id: str) -> dict:
    """The stored resource; ``NotFound`` naming it otherwise."""
    row = connection.execute(select(resources.c.body).where(resources.c.resource_type == resource_type,
                                                            resources.c.id == resource_id)).first()
    if row is None:
        raise NotFound(f"{resource_type}/{resource_id}")
    return dict(row.body)


def exists(connection: Connection, resource_type: str, resource_id: str) -> bool:
    """Whether the resource is stored."""
    return connection.execute(select(resources.c.id).where(resources.c.resource_type == resource_type,
                                                           resources.c.id == resource_id)).first() is not None


def patient_resources(connection: Connection, patient_id: str, resource_type: str) -> list[dict]:
    """Every stored resource of one type for a patient."""
    rows = connection.execute(select(resources.c.body).where(resources.c.patient_id == patient_id,
                                                             resources.c.resource_type == resource_type))
    return [dict(row.body) for row in rows]
