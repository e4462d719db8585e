"""Ingest FHIR R4 resources and transaction Bundles: validate everything, then write in one transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Connection, Engine, delete, insert, select, tuple_

from medai.core import records
from medai.core.fhir import record_from_fhir, validate_resource
from medai.errors import InvalidInput, Problem
from medai.store.audit import AuditEvent, append_in
from medai.store.references import rewrite_references, subject_patient_id
from medai.store.schema import observations, resources

MAX_PROBLEMS = 50
_ACCEPTED_BUNDLE_TYPES = {"transaction", "batch", "collection"}


@dataclass
class IngestResult:
    """What one ingest wrote: ``Type/id`` of every resource and counts per type."""

    written: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    skipped: bool = False
    """True when the bundle was already stored exactly as sent, so nothing was written."""

    def response_bundle(self) -> dict:
        """A FHIR transaction-response Bundle for this result."""
        return {"resourceType": "Bundle", "type": "transaction-response",
                "entry": [{"response": {"status": "201 Created", "location": ref}} for ref in self.written]}


@dataclass
class _Prepared:
    resource: dict
    record: records.Record | None
    location: str


def _entry_resources(bundle: object) -> list[tuple[str, str | None, dict]]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidInput(Problem("Bundle", "expected a FHIR Bundle resource", "structure"))
    if not isinstance(bundle.get("type"), str) or bundle["type"] not in _ACCEPTED_BUNDLE_TYPES:
        raise InvalidInput(Problem("Bundle.type", f"bundle type {bundle.get('type')!r} is not one of {sorted(_ACCEPTED_BUNDLE_TYPES)}", "value"))
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidInput(Problem("Bundle.entry", "entry must be a list", "structure"))
    out = []
    for index, entry in enumerate(entries):
        location = f"Bundle.entry[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise InvalidInput(Problem(f"{location}.resource", "each entry needs a resource object", "required"))
        if entry.get("fullUrl") is not None and not isinstance(entry["fullUrl"], str):
            raise InvalidInput(Problem(f"{location}.fullUrl", "fullUrl must be a string", "structure"))
        out.append((location, entry.get("fullUrl"), entry["resource"]))
    return out


def bundle_digest(bundle: object) -> str:
    """The sha256 of a bundle's canonical JSON (key order and whitespace do not matter)."""
    return hashlib.sha256(json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _assign_ids(entries: list[tuple[str, str | None, dict]], seed: str | None = None) -> dict[str, str]:
    """Give every resource an id and map each fullUrl to its ``Type/id``.

    A resource with neither an id nor a ``urn:uuid`` fullUrl gets a random id, or with ``seed`` (a bundle
    digest) one derived from the seed and its position, so ingesting the same bundle again finds it."""
    full_urls: dict[str, str] = {}
    for index, (_, full_url, resource) in enumerate(entries):
        if not resource.get("id"):
            tail = full_url.removeprefix("urn:uuid:") if full_url and full_url.startswith("urn:uuid:") else None
            derived = str(uuid.uuid5(uuid.NAMESPACE_URL, f"medai:bundle:{seed}:{index}")) if seed else None
            resource["id"] = tail or derived or str(uuid.uuid4())
        if full_url:
            full_urls[full_url] = f"{resource['resourceType']}/{resource['id']}"
    return full_urls


def _stored_resolver(connection: Connection, full_urls: dict[str, str], local: dict[str, str]):
    cache: dict[str, str | None] = {}

    def resolve(reference: str) -> str | None:
        if reference in full_urls:
            return full_urls[reference]
        if reference.startswith("urn:uuid:"):
            ident = reference.removeprefix("urn:uuid:")
            if ident not in cache:
                row = connection.execute(select(resources.c.resource_type).where(resources.c.id == ident).limit(1)).first()
                cache[ident] = f"{row[0]}/{ident}" if row else None
            return cache[ident]
        parts = reference.split("/")
        if len(parts) == 2 and reference in local:
            return reference
        if len(parts) == 2:
            row = connection.execute(select(resources.c.id).where(resources.c.resource_type == parts[0], resources.c.id == parts[1])).first()
            return reference if row else None
        return reference  # absolute URLs and conditional references are kept as sent

    return resolve


def prepare(connection: Connection, entries: list[tuple[str, str | None, dict]], seed: str | None = None) -> list[_Prepared]:
    """Validate, resolve references and convert every resource; raise with all problems found.

    ``seed`` makes the ids given to resources without one reproducible (see :func:`_assign_ids`)."""
    problems: list[Problem] = []
    for location, _, resource in entries:
        try:
            validate_resource(resource, f"{location}.resource")
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems[:MAX_PROBLEMS])
    full_urls = _assign_ids(entries, seed)
    local = {f"{r['resourceType']}/{r['id']}": "" for _, _, r in entries}
    resolve = _stored_resolver(connection, full_urls, local)
    prepared = []
    for location, _, resource in entries:
        resolved = rewrite_references(resource, resolve, f"{location}.resource", problems)
        try:
            record = record_from_fhir(resolved)
        except InvalidInput as error:
            problems.extend(Problem(f"{location}.resource ({p.location})", p.message, p.code) for p in error.problems)
            continue
        prepared.append(_Prepared(resolved, record, location))
    if problems:
        raise InvalidInput(problems[:MAX_PROBLEMS])
    return prepared


def _observation_row(record: records.Observation) -> dict:
    return {"id": record.id, "patient_id": record.patient_id, "encounter_id": record.encounter_id, "loinc": record.loinc,
            "display": record.code.label[:256], "category": record.category, "effective": record.effective,
            "value": record.value, "unit": record.unit, "value_text": record.value_text}


def write(connection: Connection, prepared: list[_Prepared]) -> IngestResult:
    """Upsert prepared resources (a version bump for ids already stored) inside the caller's transaction."""
    now = datetime.now(timezone.utc)
    keys = [(p.resource["resourceType"], p.resource["id"]) for p in prepared]
    existing: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        rows = connection.execute(select(resources.c.resource_type, resources.c.id, resources.c.version)
                                  .where(tuple_(resources.c.resource_type, resources.c.id).in_(chunk)))
        existing.update({(t, i): v for t, i, v in rows})
    if existing:
        connection.execute(delete(resources).where(tuple_(resources.c.resource_type, resources.c.id).in_(list(existing))))
        connection.execute(delete(observations).where(observations.c.id.in_([i for t, i in existing if t == "Observation"])))
    result = IngestResult()
    rows, obs_rows = [], []
    for item in prepared:
        resource = item.resource
        key = (resource["resourceType"], resource["id"])
        version = existing.get(key, 0) + 1
        resource["meta"] = {**resource.get("meta", {}), "versionId": str(version), "lastUpdated": now.isoformat()}
        rows.append({"resource_type": key[0], "id": key[1], "patient_id": subject_patient_id(resource), "version": version,
                     "last_updated": now, "body": resource})
        if isinstance(item.record, records.Observation) and item.record.patient_id:
            obs_rows.append(_observation_row(item.record))
        result.written.append(f"{key[0]}/{key[1]}")
        result.counts[key[0]] += 1
    for start in range(0, len(rows), 1000):
        connection.execute(insert(resources), rows[start:start + 1000])
    for start in range(0, len(obs_rows), 2000):
        connection.execute(insert(observations), obs_rows[start:start + 2000])
    return result


def ingest_bundle(connection: Connection, bundle: object) -> IngestResult:
    """Validate and write a whole Bundle in the caller's transaction; any problem rejects all of it."""
    return write(connection, prepare(connection, _entry_resources(bundle)))


def _without_version(body: dict) -> str:
    meta = {k: v for k, v in (body.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    rest = {k: v for k, v in body.items() if k != "meta"}
    return json.dumps({**rest, "meta": meta} if meta else rest, sort_keys=True, separators=(",", ":"))


def already_stored(connection: Connection, prepared: list[_Prepared]) -> bool:
    """Whether every prepared resource is stored with the same content (versions and times aside)."""
    keys = [(p.resource["resourceType"], p.resource["id"]) for p in prepared]
    stored: dict[tuple[str, str], dict] = {}
    for start in range(0, len(keys), 500):
        rows = connection.execute(select(resources.c.resource_type, resources.c.id, resources.c.body)
                                  .where(tuple_(resources.c.resource_type, resources.c.id).in_(keys[start:start + 500])))
        stored.update({(t, i): body for t, i, body in rows})
    return len(stored) == len(set(keys)) and all(
        _without_version(stored[key]) == _without_version(json.loads(json.dumps(p.resource))) for key, p in zip(keys, prepared))


def store_bundle(engine: Engine, bundle: object, actor: str = "cli", role: str = "admin") -> IngestResult:
    """Ingest one Bundle resumably: in one transaction with its audit record, skipped when already stored.

    Ids given to resources without one derive from the bundle's digest, so storing the same bundle
    again (after a crash, or a re-run over the same files) writes nothing twice. The audit record
    names the bundle by its digest only (file names can hold patient names)."""
    digest = bundle_digest(bundle)
    with engine.begin() as connection:
        prepared = prepare(connection, _entry_resources(bundle), seed=digest)
        if already_stored(connection, prepared):
            return IngestResult(written=[f"{p.resource['resourceType']}/{p.resource['id']}" for p in prepared], skipped=True)
        result = write(connection, prepared)
        append_in(connection, AuditEvent(actor, role, "ingest:bundle", detail={"bundle_sha256": digest, "counts": dict(result.counts)}))
    return result


def ingest_resource(connection: Connection, resource: object) -> IngestResult:
    """Validate and write one resource (e.g. a streamed vital-sign Observation)."""
    if not isinstance(resource, dict):
        raise InvalidInput(Problem("resource", "a FHIR resource must be a JSON object", "structure"))
    return write(connection, prepare(connection, [("resource", None, resource)]))
