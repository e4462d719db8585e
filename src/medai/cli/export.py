"""``medai export``: stored resources and predictions as FHIR Bulk Data NDJSON plus the export manifest.

The output folder looks like a completed ``$export``: ``<ResourceType>.ndjson`` files and
``manifest.json`` (``transactionTime``, ``request``, ``requiresAccessToken``, ``output`` with
``type``/``url``/``count``, ``error``), so it feeds ``--ray`` batch scoring or another system's bulk import.
Predictions not already stored as RiskAssessment resources are written as RiskAssessments carrying the
model's identity. The export is one audited read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, select

console = Console()


def _stored_resources(connection: Connection, types: list[str] | None, patient: str | None,
                      since: datetime | None) -> Iterator[dict]:
    from medai.store.schema import resources

    query = select(resources.c.body)
    if types:
        query = query.where(resources.c.resource_type.in_(types))
    if patient:
        query = query.where((resources.c.patient_id == patient)
                            | ((resources.c.resource_type == "Patient") & (resources.c.id == patient)))
    if since:
        query = query.where(resources.c.last_updated >= since)
    result = connection.execution_options(stream_results=True, yield_per=1000).execute(
        query.order_by(resources.c.resource_type, resources.c.id))
    for row in result:
        yield row[0]


def prediction_resource(row: dict) -> dict:
    """A stored prediction as a FHIR RiskAssessment: model identity in ``method``, value and label in ``prediction``."""
    from medai.core import records
    from medai.core.fhir import record_to_fhir

    value = row["value"]
    is_probability = value is not None and 0.0 <= value <= 1.0
    explanation = row["explanation"] or {}
    created = row["created"] if row["created"].tzinfo else row["created"].replace(tzinfo=timezone.utc)
    outcome = records.Concept(text=row["model_id"])
    record = records.RiskAssessment(
        id=row["id"], patient_id=row["patient_id"], status="final", occurrence=created, code=outcome,
        method=records.Concept(text=f"{row['model_id']} {row['model_version']} (weights sha256 {row['weights_sha256'][:12]})"),
        predictions=[records.RiskPrediction(outcome=outcome, probability=round(value, 6) if is_probability else None,
                                            qualitative_risk=row["label"], rationale=explanation.get("summary"))],
        note=None if is_probability or value is None else f"value {value}")
    return record_to_fhir(record)


def _stored_predictions(connection: Connection, patient: str | None, since: datetime | None) -> Iterator[dict]:
    from medai.store.schema import predictions, resources

    stored = select(resources.c.id).where(resources.c.resource_type == "RiskAssessment")
    query = select(predictions).where(predictions.c.id.not_in(stored))
    if patient:
        query = query.where(predictions.c.patient_id == patient)
    if since:
        query = query.where(predictions.c.created >= since)
    for row in connection.execution_options(stream_results=True, yield_per=1000).execute(query.order_by(predictions.c.id)):
        yield prediction_resource(row._asdict())


def export_database(engine, out: Path, types: list[str] | None = None, patient: str | None = None,
                    since: datetime | None = None, include_predictions: bool = True) -> dict:
    """Write the stored resources (and predictions) as Bulk Data NDJSON into ``out``; return the manifest."""
    from medai.core.fhir.ndjson import NdjsonWriter
    from medai.store.audit import AuditEvent, append

    query = [f"_type={','.join(types)}"] if types else []
    query += [f"patient={patient}"] if patient else []
    query += [f"_since={since.isoformat()}"] if since else []
    started = datetime.now(timezone.utc)
    writer = NdjsonWriter(Path(out), request="medai export" + ("?" + "&".join(query) if query else ""))
    with engine.connect() as connection:
        for resource in _stored_resources(connection, types, patient, since):
            writer.write(resource)
        if include_predictions and (not types or "RiskAssessment" in types):
            for resource in _stored_predictions(connection, patient, since):
                writer.write(resource)
    manifest = writer.close(transaction_time=started)
    append(engine, AuditEvent(actor="cli", role="admin", action="cli:export", patient_id=patient,
                              detail={"counts": {o["type"]: o["count"] for o in manifest["output"]},
                                      "request": manifest["request"]}))
    return manifest


def export(out: Path = typer.Argument(..., help="Folder for the NDJSON files and manifest.json (created)."),
           types: list[str] | None = typer.Option(None, "--type", help="Resource types to export (repeatable; "
                                                                        "default: all stored)."),
           patient: str | None = typer.Option(None, help="Only this patient's resources and predictions."),
           since: datetime | None = typer.Option(None, help="Only resources updated (predictions made) at or after this time."),
           predictions: bool = typer.Option(True, "--predictions/--no-predictions",
                                            help="Also export predictions as RiskAssessment resources."),
           database_url: str | None = typer.Option(None, help="Overrides MEDAI_DATABASE_URL.")) -> None:
    """Export stored FHIR resources and predictions as Bulk Data NDJSON with an $export-style manifest."""
    from medai.config import get_settings
    from medai.store.db import open_database

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    manifest = export_database(open_database(settings), out, types, patient, since, predictions)
    table = Table("type", "resources", "file", title=f"Bulk export into {out}")
    for entry in manifest["output"]:
        table.add_row(entry["type"], str(entry["count"]), entry["url"])
    console.print(table)
    console.print(f"manifest: {Path(out) / 'manifest.json'}")
