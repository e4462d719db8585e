"""Shared helpers for FHIR datatypes: dates, references, codeable concepts."""

from __future__ import annotations

from datetime import date, datetime, timezone

from medai.core.records import Coding, Concept


def parse_datetime(value: str | None) -> datetime | None:
    """Parse a FHIR date or dateTime (year, year-month, date, or full) as an aware datetime."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_datetime(value: datetime | None) -> str | None:
    """A FHIR dateTime string (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def format_date(value: date | None) -> str | None:
    """A FHIR date string."""
    return value.isoformat() if value else None


def reference_id(reference: dict | None, resource_type: str | None = None) -> str | None:
    """The logical id in a ``{"reference": "Type/id"}`` (optionally of a given type)."""
    if not reference or "reference" not in reference:
        return None
    ref = reference["reference"]
    if ref.startswith("urn:uuid:"):
        return ref.removeprefix("urn:uuid:")
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2 and (resource_type is None or parts[-2] == resource_type):
        return parts[-1]
    return None


def make_reference(resource_type: str, resource_id: str | None) -> dict | None:
    """A FHIR Reference to ``Type/id``."""
    return {"reference": f"{resource_type}/{resource_id}"} if resource_id else None


def read_concept(value: dict | None) -> Concept | None:
    """A CodeableConcept as a ``Concept``."""
    if not value:
        return None
    codings = [Coding(system=c.get("system"), code=c.get("code"), display=c.get("display")) for c in value.get("coding", [])]
    return Concept(codings=codings, text=value.get("text"))


def write_concept(concept: Concept | None) -> dict | None:
    """A ``Concept`` as a FHIR CodeableConcept."""
    if concept is None:
        return None
    out: dict = {}
    if concept.codings:
        out["coding"] = [prune(c.model_dump()) for c in concept.codings]
    if concept.text:
        out["text"] = concept.text
    return out


def first_code(value: dict | None) -> str | None:
    """The first coding's code of a CodeableConcept."""
    concept = read_concept(value)
    return concept.codings[0].code if concept and concept.codings else None


def status_concept(system: str, code: str | None) -> dict | None:
    """A CodeableConcept holding one code (for clinicalStatus and the like)."""
    return {"coding": [{"system": system, "code": code}]} if code else None


def prune(value):
    """Drop None, empty lists and empty dicts recursively (FHIR forbids empty elements)."""
    if isinstance(value, dict):
        cleaned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [v for v in (prune(v) for v in value) if v not in (None, [], {}, "")]
    return value
