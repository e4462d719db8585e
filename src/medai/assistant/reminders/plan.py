"""Reminder rows: planned from appointments (lead times before the start) and from medication schedules
(each dose, and each refill), one row per occurrence and channel; planning twice adds nothing new."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from medai.assistant.reminders.medication import MedicationSchedule, medication_schedule
from medai.assistant.reminders.refill import RefillPlan, refill_plan
from medai.assistant.scheduling.resources import utc
from medai.store.schema import reminders

DEFAULT_LEADS = (timedelta(hours=24), timedelta(hours=2))
CHANNELS = ("in-app", "email")
DOSE_GRACE = timedelta(hours=2)


def _key(row: dict) -> tuple:
    return row["source"], row["kind"], row["channel"], utc(row["event_time"]), utc(row["due"])


def add_reminders(connection: Connection, rows: list[dict]) -> int:
    """Insert the reminder rows not already planned (same source, kind, channel, event and due time)."""
    if not rows:
        return 0
    sources = {r["source"] for r in rows}
    existing = {_key(dict(r._mapping)) for r in connection.execute(
        select(reminders.c.source, reminders.c.kind, reminders.c.channel, reminders.c.event_time, reminders.c.due)
        .where(reminders.c.source.in_(sources)))}
    new = []
    for row in rows:
        if _key(row) in existing:
            continue
        existing.add(_key(row))
        new.append({"id": str(uuid.uuid4()), "status": "pending", "attempts": 0, **row})
    if new:
        connection.execute(reminders.insert(), new)
    return len(new)


def cancel_pending(connection: Connection, source: str) -> int:
    """Cancel every reminder of ``source`` (e.g. ``Appointment/x``) not yet sent."""
    return connection.execute(update(reminders).where(reminders.c.source == source, reminders.c.status == "pending")
                              .values(status="cancelled")).rowcount


def _lead_text(lead: timedelta) -> str:
    hours = lead.total_seconds() / 3600
    return f"in {hours / 24:g} day(s)" if hours >= 24 and hours % 24 == 0 else f"in {hours:g} hour(s)"


def plan_appointment(connection: Connection, appointment: dict, now: datetime, leads=DEFAULT_LEADS, channels=CHANNELS,
                     with_whom: str | None = None) -> int:
    """Reminders ``leads`` before a booked appointment on each channel (leads already past are skipped)."""
    start = datetime.fromisoformat(appointment["start"])
    patient = next(p["actor"]["reference"].removeprefix("Patient/") for p in appointment["participant"]
                   if p.get("actor", {}).get("reference", "").startswith("Patient/"))
    rows = []
    for lead in leads:
        due = start - lead
        if due <= now:
            continue
        for channel in channels:
            rows.append({"patient_id": patient, "kind": "appointment", "source": f"Appointment/{appointment['id']}",
                         "channel": channel, "event_time": start, "due": due, "expires": start,
                         "title": f"Appointment {_lead_text(lead)}",
                         "body": f"You have an appointment{' with ' + with_whom if with_whom else ''} at "
                                 f"{start.strftime('%Y-%m-%d %H:%M %Z')}."})
    return add_reminders(connection, rows)


def plan_medication(connection: Connection, request: dict, patient_id: str, now: datetime, days: float = 7,
                    channels=("in-app",), tz: str = "UTC", lead: timedelta = timedelta(0),
                    refill_lead_days: float = 3) -> tuple[MedicationSchedule, RefillPlan, int]:
    """Dose reminders for the next ``days`` and refill reminders for an active request; returns what was planned."""
    schedule = medication_schedule(request, start=now, days=days, tz=tz)
    refill = refill_plan(request, schedule.doses_per_day, lead_days=refill_lead_days)
    if not schedule.active:
        return schedule, refill, 0
    source = f"MedicationRequest/{request['id']}"
    rows = [{"patient_id": patient_id, "kind": "dose", "source": source, "channel": channel, "event_time": dose.time,
             "due": dose.time - lead, "expires": dose.time + DOSE_GRACE, "title": f"Time for {schedule.medication}",
             "body": f"Take {dose.dose or 'your dose'} of {schedule.medication} at {dose.time.strftime('%H:%M %Z')}."}
            for dose in schedule.doses for channel in channels]
    for date, due in zip(refill.refill_dates, refill.reminders):
        if now <= due < now + timedelta(days=max(days, refill_lead_days + 1)) or now <= date and due <= now:
            rows += [{"patient_id": patient_id, "kind": "refill", "source": source, "channel": channel, "event_time": date,
                      "due": max(due, now), "expires": date, "title": f"Refill {schedule.medication}",
                      "body": f"Your supply of {schedule.medication} runs out around {date.date().isoformat()}: request a refill."}
                     for channel in channels]
    return schedule, refill, add_reminders(connection, rows)


def patient_reminders(connection: Connection, patient_id: str, status: str | None = None, limit: int = 500) -> list[dict]:
    """A patient's reminders, soonest first."""
    query = select(reminders).where(reminders.c.patient_id == patient_id).order_by(reminders.c.due).limit(limit)
    if status:
        query = query.where(reminders.c.status == status)
    out = []
    for row in connection.execute(query).mappings():
        item = dict(row)
        for name in ("event_time", "due", "expires", "sent_at"):
            item[name] = utc(item[name]).isoformat() if item[name] else None
        out.append(item)
    return out
