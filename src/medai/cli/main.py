"""The ``medai`` command line: serve, ingest, and one command group per area."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from medai.cli import admin, catalog, imaging
from medai.cli import backup as backup_cli
from medai.cli.assistant import assistant_app
from medai.cli.export import export
from medai.cli.forecast import forecast_app
from medai.cli.notes import notes_app
from medai.cli.readmission import readmission_app
from medai.cli.sepsis import sepsis_app
from medai.cli.symptoms import symptoms_app
from medai.cli.treatment import treatment_app
from medai.config import get_settings

app = typer.Typer(help="medai: clinical AI on FHIR R4 and CDS Hooks.", no_args_is_help=True)
app.add_typer(catalog.datasets_app, name="datasets")
app.add_typer(catalog.models_app, name="models")
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.tokens_app, name="tokens")
app.add_typer(admin.clients_app, name="clients")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(sepsis_app, name="sepsis")
app.add_typer(imaging.imaging_app, name="imaging")
app.add_typer(treatment_app, name="treatment")
app.add_typer(notes_app, name="notes")
app.add_typer(readmission_app, name="readmission")
app.add_typer(forecast_app, name="forecast")
app.add_typer(assistant_app, name="assistant")
app.add_typer(symptoms_app, name="symptoms")
app.command("export")(export)
backup_cli.register(app)
console = Console()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          demo: bool = typer.Option(False, help="Start with a freshly generated demo hospital and a live vitals stream."),
          demo_patients: int = typer.Option(24, help="Number of demo patients."),
          replay_seconds: float = typer.Option(10.0, help="Wall seconds per simulated hour of the demo vitals stream."),
          mqtt: str | None = typer.Option(None, help="MQTT broker for device feeds, e.g. mqtt://127.0.0.1:1883.")) -> None:
    """Run the web service (API, CDS Hooks and clinician UI)."""
    import uvicorn

    from medai.service.app import create_app

    settings = get_settings()
    settings = settings.model_copy(update={"base_url": f"http://{host}:{port}", "mqtt_url": mqtt or settings.mqtt_url})
    if demo:
        from medai.service.demo import prepare_demo, start_replay

        hospital = prepare_demo(settings, n_patients=demo_patients, console=console)
        app_ = create_app(settings, hospital.engine)
        start_replay(hospital, app_, seconds_per_hour=replay_seconds)
        console.print(f"[bold green]Demo hospital ready[/] at http://{host}:{port}/ui  —  sign in as: "
                      + ", ".join(f"{user} / {password} ({role})" for user, password, role in hospital.credentials))
    else:
        app_ = create_app(settings)
    from medai.service.routers.assistant_chat import warm_up_chat

    warm_up_chat(app_)  # load the crisis screen's models in the background, so the first chat message is not slow
    uvicorn.run(app_, host=host, port=port, access_log=False, log_level="info")


@app.command()
def ingest(path: Path = typer.Argument(..., exists=True, help="A FHIR Bundle JSON file, a folder of them, or a zip."),
           database_url: str | None = typer.Option(None, help="Overrides MEDAI_DATABASE_URL.")) -> None:
    """Ingest FHIR R4 Bundles: each bundle in one transaction, rejected whole when any resource is bad.

    Resumable: a bundle already stored as sent is skipped, so re-running after an interruption
    finishes the job without writing anything twice."""
    from collections import Counter

    from medai.core.fhir.files import bundle_files, read_bundle
    from medai.errors import InvalidInput
    from medai.store.db import open_database
    from medai.store.audit import AuditEvent, append
    from medai.store.ingest import store_bundle

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    engine = open_database(settings)
    files = bundle_files(path)
    totals: Counter = Counter()
    failed: list[tuple[str, list]] = []
    skipped = 0
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Ingesting bundles", total=len(files))
        for name, source in files:
            try:
                result = store_bundle(engine, read_bundle(name, source))
                skipped += result.skipped
                totals.update(result.counts)
            except InvalidInput as error:
                failed.append((name, error.problems))
            except json.JSONDecodeError as error:
                failed.append((name, [f"malformed JSON: {error}"]))
            progress.advance(task)
    append(engine, AuditEvent(actor="cli", role="admin", action="cli:ingest", detail={"bundles": len(files), "failed": len(failed), "skipped": skipped, "counts": dict(totals)}))
    table = Table("resource type", "ingested", title=f"{len(files) - len(failed)} of {len(files)} bundles ingested")
    for resource_type, count in sorted(totals.items()):
        table.add_row(resource_type, str(count))
    console.print(table)
    if skipped:
        console.print(f"{skipped} bundles were already stored and were skipped")
    for name, problems in failed:
        console.print(f"[red]rejected[/] {name}:")
        for problem in problems[:10]:
            console.print(f"  {getattr(problem, 'location', '')}: {getattr(problem, 'message', problem)}")
    if failed:
        raise typer.Exit(1)
