"""``medai assistant`` scheduling commands (mounted by ``register``):

* ``slots PRACTITIONER [--publish --start DATE --days N]``: publish a practitioner's schedule and list free slots.
* ``book SLOT_ID PATIENT_ID [--reason TEXT]``: book a slot (exit 1 naming the conflict).
* ``reminders (--sig TEXT | --request FILE) [--start ISO --days N --tz ZONE] --json``: dose times of a sig or a
  MedicationRequest (JSON), or the reason there are none.
* ``dispatch``: send due reminders once (e-mail when ``MEDAI_SMTP_HOST`` is set).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import typer
from rich.console import Console

from medai.errors import InvalidInput, NotFound

err_console = Console(stderr=True)


def _emit(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=1, default=str) + "\n")


def _fail(message: object) -> None:
    err_console.print(f"[red]error[/]: {message}")
    raise typer.Exit(1)


def slots(practitioner: str = typer.Argument(..., help="Practitioner id in the store."),
          publish: bool = typer.Option(False, help="Publish a schedule first (weekdays 09-17, 20-minute slots)."),
          start: str = typer.Option(None, help="First day (YYYY-MM-DD; default today)."),
          days: int = typer.Option(14, help="Days to publish / list.")) -> None:
    """Publish a practitioner's schedule and list the free slots."""
    from medai.assistant.scheduling.slots import free_slots, publish_schedule
    from medai.store.db import open_database

    first = date.fromisoformat(start) if start else date.today()
    engine = open_database()
    try:
        if publish:
            with engine.begin() as connection:
                publish_schedule(connection, practitioner, first, days)
        with engine.connect() as connection:
            since = max(datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc), datetime.now(timezone.utc))
            _emit(free_slots(connection, since, since + timedelta(days=days), practitioner))
    except (InvalidInput, NotFound) as error:
        _fail(error)


def book(slot_id: str = typer.Argument(...), patient_id: str = typer.Argument(...),
         reason: str = typer.Option(None, help="Reason for the visit.")) -> None:
    """Book a slot for a patient; prints the FHIR Appointment."""
    from medai.assistant.scheduling.booking import SchedulingConflict, book as book_slot
    from medai.store.db import open_database

    try:
        with open_database().begin() as connection:
            _emit(book_slot(connection, slot_id, patient_id, datetime.now(timezone.utc), reason=reason))
    except SchedulingConflict as error:
        _fail(f"conflict ({error.field}): {error}")
    except (InvalidInput, NotFound) as error:
        _fail(error)


def reminders(sig: str = typer.Option(None, help="A free-text sig, e.g. '1 tab PO BID x 7 days'."),
              request: Path = typer.Option(None, exists=True, dir_okay=False, help="A MedicationRequest JSON file."),
              start: str = typer.Option(None, help="Window start (ISO date-time; default: the start of therapy, or now for --sig)."),
              days: float = typer.Option(7, help="Window length in days."),
              tz: str = typer.Option("UTC", help="The patient's time zone."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON (the default output is a table).")) -> None:
    """Dose times (or the reason there are none) for a sig or a MedicationRequest, with refill dates."""
    from medai.assistant.reminders.medication import medication_schedule
    from medai.assistant.reminders.refill import refill_plan
    from medai.assistant.reminders.sig import parse_sig

    if (sig is None) == (request is None):
        _fail("give either --sig or --request")
    window = datetime.fromisoformat(start) if start else None
    if window is not None and window.tzinfo is None:
        window = window.replace(tzinfo=timezone.utc)
    parsed = None
    if sig is not None:
        parsed = parse_sig(sig)
        window = window or datetime.now(timezone.utc)
        resource = {"resourceType": "MedicationRequest", "id": "sig", "status": "active", "intent": "order",
                    "authoredOn": window.isoformat(), "dosageInstruction": [parsed.dosage]}
    else:
        resource = json.loads(request.read_text(encoding="utf-8"))
    schedule = medication_schedule(resource, start=window, days=days, tz=tz)
    refill = refill_plan(resource, schedule.doses_per_day)
    payload = {**schedule.to_dict(), "refill": refill.to_dict(), **({"sig": parsed.to_dict()} if parsed else {})}
    if as_json:
        _emit(payload)
        return
    console = Console()
    console.print(f"{schedule.medication}: {schedule.status}" + (f" ({schedule.reason})" if schedule.reason else ""))
    for dose in schedule.doses:
        console.print(f"  {dose.time.isoformat()}  {dose.dose or ''}")
    for warning in schedule.warnings + (parsed.warnings if parsed else []):
        console.print(f"[yellow]warning[/]: {warning}")


def dispatch() -> None:
    """Send every due reminder once (safe to run from cron)."""
    from medai.assistant.reminders.dispatch import dispatch_due
    from medai.assistant.reminders.email import mailer_from_env
    from medai.store.db import open_database

    _emit(dispatch_due(open_database(), datetime.now(timezone.utc), mailer_from_env()).to_dict())


def register(app: typer.Typer) -> None:
    """Add ``slots``, ``book``, ``reminders`` and ``dispatch`` to the ``assistant`` command group."""
    app.command("slots")(slots)
    app.command("book")(book)
    app.command("reminders")(reminders)
    app.command("dispatch")(dispatch)
