"""Adherence: log each scheduled dose as taken, late or skipped, and summarise against the schedule.

A dose logged ``taken`` more than ``LATE_AFTER`` after its scheduled time is recorded as ``late``. The summary
compares the log with the doses each active request scheduled in the period (up to now): doses with no entry
count as ``missing``; adherence = (taken + late) / scheduled.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from medai.assistant.reminders.medication import SCHEDULED, medication_schedule
from medai.assistant.scheduling.resources import load, patient_resources, utc
from medai.errors import InvalidInput, Problem
from medai.store.schema import adherence_events

STATUSES = ("taken", "late", "skipped")
LATE_AFTER = timedelta(hours=1)


def log_dose(connection: Connection, patient_id: str, medication_request_id: str, scheduled_time: datetime, status: str,
             actor: str, now: datetime, taken_at: datetime | None = None, note: str | None = None) -> dict:
    """Record (or correct) the outcome of one scheduled dose; returns the stored entry."""
    if status not in STATUSES:
        raise InvalidInput(Problem("status", f"status must be one of {', '.join(STATUSES)}", "value"))
    request = load(connection, "MedicationRequest", medication_request_id)
    if (request.get("subject") or {}).get("reference") != f"Patient/{patient_id}":
        raise InvalidInput(Problem("medication_request_id", "the MedicationRequest is not this patient's", "value"))
    if scheduled_time > now + timedelta(hours=12):
        raise InvalidInput(Problem("scheduled_time", "a dose more than 12 hours ahead cannot be logged yet", "value"))
    if status in ("taken", "late"):
        taken_at = taken_at or now
        status = "late" if taken_at - scheduled_time > LATE_AFTER else status
    entry = {"patient_id": patient_id, "medication_request_id": medication_request_id, "scheduled_time": scheduled_time,
             "status": status, "taken_at": taken_at if status != "skipped" else None, "recorded": now, "actor": actor, "note": note}
    existing = connection.execute(select(adherence_events.c.id).where(
        adherence_events.c.medication_request_id == medication_request_id,
        adherence_events.c.scheduled_time == scheduled_time)).first()
    if existing:
        connection.execute(update(adherence_events).where(adherence_events.c.id == existing.id).values(**entry))
        entry["id"] = existing.id
    else:
        entry["id"] = str(uuid.uuid4())
        connection.execute(adherence_events.insert(), entry)
    return {**entry, "scheduled_time": scheduled_time.isoformat(), "recorded": now.isoformat(),
            "taken_at": entry["taken_at"].isoformat() if entry["taken_at"] else None}


def adherence_summary(connection: Connection, patient_id: str, start: datetime, end: datetime, tz: str = "UTC") -> dict:
    """Per active medication and overall: scheduled, taken, late, skipped, missing doses and adherence in [start, end)."""
    logged: dict[tuple[str, datetime], str] = {
        (r.medication_request_id, utc(r.scheduled_time)): r.status for r in connection.execute(
            select(adherence_events).where(adherence_events.c.patient_id == patient_id, adherence_events.c.scheduled_time >= start,
                                           adherence_events.c.scheduled_time < end))}
    medications, totals = [], {"scheduled": 0, "taken": 0, "late": 0, "skipped": 0, "missing": 0}
    for request in patient_resources(connection, patient_id, "MedicationRequest"):
        schedule = medication_schedule(request, start=start, days=(end - start).total_seconds() / 86400, tz=tz)
        if not schedule.active or schedule.status != SCHEDULED:
            continue
        counts = {"scheduled": 0, "taken": 0, "late": 0, "skipped": 0, "missing": 0}
        for dose in schedule.doses:
            counts["scheduled"] += 1
            counts[logged.get((request["id"], dose.time), "missing")] += 1
        for key in totals:
            totals[key] += counts[key]
        medications.append({"medication_request_id": request["id"], "medication": schedule.medication, **counts,
                            "adherence": round((counts["taken"] + counts["late"]) / counts["scheduled"], 3) if counts["scheduled"] else None})
    overall = round((totals["taken"] + totals["late"]) / totals["scheduled"], 3) if totals["scheduled"] else None
    return {"patient_id": patient_id, "start": start.isoformat(), "end": end.isoformat(), **totals, "adherence": overall,
            "medications": medications}
