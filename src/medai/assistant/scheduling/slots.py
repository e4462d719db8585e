"""Schedule templates -> FHIR ``Schedule`` and free ``Slot`` resources for a practitioner, stored and indexed."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, insert, select

from medai.assistant.scheduling.resources import exists, save, utc
from medai.errors import InvalidInput, NotFound, Problem
from medai.store.schema import appointment_slots

SERVICE_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/service-type", "code": "124",
                            "display": "General Practice"}]}


class ScheduleTemplate(BaseModel):
    """Opening hours: which weekdays (0 = Monday), from when to when, slot length and breaks, in a time zone."""

    model_config = ConfigDict(extra="forbid")

    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4], min_length=1)
    day_start: time = time(9)
    day_end: time = time(17)
    slot_minutes: int = Field(default=20, ge=5, le=240)
    breaks: list[tuple[time, time]] = Field(default=[(time(12), time(13))])
    timezone: str = "UTC"

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in days):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return sorted(set(days))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except Exception:
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    def slot_times(self, start: date, days: int) -> list[tuple[datetime, datetime]]:
        """(start, end) of every slot on ``days`` days from ``start``, in UTC."""
        if self.day_end <= self.day_start:
            raise InvalidInput(Problem("template.day_end", "day_end must be after day_start", "value"))
        zone, length, out = ZoneInfo(self.timezone), timedelta(minutes=self.slot_minutes), []
        for offset in range(days):
            day = start + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            moment, close = datetime.combine(day, self.day_start, tzinfo=zone), datetime.combine(day, self.day_end, tzinfo=zone)
            while moment + length <= close:
                end = moment + length
                if not any(datetime.combine(day, a, tzinfo=zone) < end and moment < datetime.combine(day, b, tzinfo=zone)
                           for a, b in self.breaks):
                    out.append((moment.astimezone(timezone.utc), end.astimezone(timezone.utc)))
                moment = end
        return out


def schedule_resource(practitioner_id: str, start: date, days: int, schedule_id: str | None = None) -> dict:
    """A FHIR R4 ``Schedule`` for a practitioner over the planning horizon."""
    return {"resourceType": "Schedule", "id": schedule_id or str(uuid.uuid4()), "active": True,
            "serviceType": [SERVICE_TYPE], "actor": [{"reference": f"Practitioner/{practitioner_id}"}],
            "planningHorizon": {"start": start.isoformat(), "end": (start + timedelta(days=days - 1)).isoformat()}}


def slot_resource(schedule_id: str, start: datetime, end: datetime, status: str = "free") -> dict:
    """A FHIR R4 ``Slot`` of a schedule."""
    return {"resourceType": "Slot", "id": str(uuid.uuid4()), "schedule": {"reference": f"Schedule/{schedule_id}"},
            "status": status, "serviceType": [SERVICE_TYPE], "start": start.isoformat(), "end": end.isoformat()}


def publish_schedule(connection: Connection, practitioner: str | dict, start: date, days: int,
                     template: ScheduleTemplate | None = None) -> tuple[dict, list[dict]]:
    """Store a Schedule and its free Slots (and the Practitioner when given whole) in the caller's transaction.

    Slots that would overlap slots the practitioner already has are left out, so publishing twice is harmless.
    """
    template = template or ScheduleTemplate()
    if days < 1 or days > 366:
        raise InvalidInput(Problem("days", "days must be between 1 and 366", "value"))
    items: list[dict] = []
    if isinstance(practitioner, dict):
        if practitioner.get("resourceType") != "Practitioner" or not practitioner.get("id"):
            raise InvalidInput(Problem("practitioner", "expected a Practitioner resource with an id", "value"))
        items.append(practitioner)
        practitioner_id = practitioner["id"]
    else:
        practitioner_id = practitioner
        if not exists(connection, "Practitioner", practitioner_id):
            raise NotFound(f"Practitioner/{practitioner_id}")
    taken = [(utc(a), utc(b)) for a, b in connection.execute(
        select(appointment_slots.c.starts, appointment_slots.c.ends).where(appointment_slots.c.practitioner_id == practitioner_id))]
    schedule = schedule_resource(practitioner_id, start, days)
    slots = [slot_resource(schedule["id"], a, b) for a, b in template.slot_times(start, days)
             if not any(a < tb and ta < b for ta, tb in taken)]
    save(connection, items + [schedule] + slots)
    if slots:
        connection.execute(insert(appointment_slots), [
            {"id": s["id"], "schedule_id": schedule["id"], "practitioner_id": practitioner_id, "starts": datetime.fromisoformat(s["start"]),
             "ends": datetime.fromisoformat(s["end"]), "status": "free"} for s in slots])
    return schedule, slots


def free_slots(connection: Connection, start: datetime, end: datetime, practitioner_id: str | None = None,
               limit: int = 200) -> list[dict]:
    """Free slots starting in ``[start, end)``, earliest first (index rows: id, practitioner, start, end)."""
    query = (select(appointment_slots).where(appointment_slots.c.status == "free", appointment_slots.c.starts >= start,
                                             appointment_slots.c.starts < end)
             .order_by(appointment_slots.c.starts, appointment_slots.c.id).limit(limit))
    if practitioner_id:
        query = query.where(appointment_slots.c.practitioner_id == practitioner_id)
    return [{"id": r.id, "schedule_id": r.schedule_id, "practitioner_id": r.practitioner_id, "start": utc(r.starts).isoformat(),
             "end": utc(r.ends).isoformat(), "status": r.status} for r in connection.execute(query)]
