"""Read clinical data: resources by id, searches by patient, observation timelines, records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from medai.core import records
from medai.core.fhir import record_from_fhir
from medai.errors import NotFound
from medai.store.schema import observations, resources


def get_resource(connection: Connection, resource_type: str, resource_id: str) -> dict:
    """The stored FHIR resource, or ``NotFound``."""
    row = connection.execute(select(resources.c.body).where(resources.c.resource_type == resource_type,
                                                            resources.c.id == resource_id)).first()
    if row is None:
        raise NotFound(f"{resource_type}/{resource_id}")
    return row[0]


def search(connection: Connection, resource_type: str, patient_id: str | None = None, code: str | None = None,
           limit: int = 1000, offset: int = 0) -> list[dict]:
    """Stored resources of a type, optionally for one patient and with a code (any coding's code)."""
    query = select(resources.c.body).where(resources.c.resource_type == resource_type)
    if patient_id is not None:
        query = query.where(resources.c.patient_id == patient_id)
    if code is not None and resource_type == "Observation":
        ids = select(observations.c.id).where(observations.c.loinc == code)
        query = query.where(resources.c.id.in_(ids))
    rows = [row[0] for row in connection.execute(query.order_by(resources.c.id).limit(limit).offset(offset))]
    if code is not None and resource_type != "Observation":
        rows = [r for r in rows if any(c.get("code") == code for c in (r.get("code") or {}).get("coding", []))]
    return rows


def patient_of(resource: dict) -> str | None:
    """The id of the patient a stored resource belongs to."""
    from medai.store.references import subject_patient_id

    return subject_patient_id(resource)


def count_by_type(connection: Connection, patient_id: str | None = None) -> dict[str, int]:
    """Number of stored resources per resource type."""
    query = select(resources.c.resource_type, func.count()).group_by(resources.c.resource_type)
    if patient_id is not None:
        query = query.where(resources.c.patient_id == patient_id)
    return dict(connection.execute(query).all())


def patient_records(connection: Connection, resource_type: str, patient_id: str) -> list[records.Record]:
    """A patient's resources of one type as medai records."""
    return [record_from_fhir(body) for body in search(connection, resource_type, patient_id, limit=100_000)]


def list_patients(connection: Connection, limit: int = 500) -> list[records.Patient]:
    """Stored patients as records, by family name."""
    rows = connection.execute(select(resources.c.body).where(resources.c.resource_type == "Patient"))
    patients = [record_from_fhir(row[0]) for row in rows]
    return sorted(patients, key=lambda p: (p.family_name or "", p.given_names))[:limit]


def observation_series(connection: Connection, patient_id: str, loinc_codes: list[str] | None = None,
                       since: datetime | None = None) -> list[dict]:
    """Numeric observations of a patient in time order: dicts with loinc, display, effective, value, unit."""
    query = select(observations.c.loinc, observations.c.display, observations.c.effective, observations.c.value,
                   observations.c.unit).where(observations.c.patient_id == patient_id, observations.c.value.is_not(None))
    if loinc_codes:
        query = query.where(observations.c.loinc.in_(loinc_codes))
    if since is not None:
        query = query.where(observations.c.effective >= since)
    return [row._asdict() for row in connection.execute(query.order_by(observations.c.effective))]
