"""Book, reschedule and cancel FHIR R4 Appointments on stored Slots, with conflict checks.

Every function works in the caller's transaction (one per operation). A slot is taken with a conditional
update (free -> busy), so two concurrent bookings of one slot cannot both succeed. Conflicts raise
``SchedulingConflict`` naming the field: slot already busy, slot in the past, slot of another practitioner,
patient already booked at an overlapping time, appointment no longer changeable.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from medai.assistant.reminders.plan import CHANNELS, DEFAULT_LEADS, cancel_pending, plan_appointment
from medai.assistant.scheduling.practitioners import practitioner_name
from medai.assistant.scheduling.resources import exists, load, save, utc
from medai.errors import NotFound
from medai.store.schema import appointment_slots, appointments


class SchedulingConflict(Exception):
    """The request clashes with the calendar (HTTP 409); ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def _slot(connection: Connection, slot_id: str):
    row = connection.execute(select(appointment_slots).where(appointment_slots.c.id == slot_id)).first()
    if row is None:
        raise NotFound(f"Slot/{slot_id}")
    return row


def _check_slot(connection: Connection, slot, patient_id: str, now: datetime, practitioner_id: str | None,
                ignore_appointment: str | None = None) -> None:
    if practitioner_id and slot.practitioner_id != practitioner_id:
        raise SchedulingConflict("practitioner_id", f"slot {slot.id} belongs to another practitioner, not Practitioner/{practitioner_id}")
    if utc(slot.starts) <= now:
        raise SchedulingConflict("slot_id", f"slot {slot.id} starts in the past ({utc(slot.starts).isoformat()})")
    if slot.status != "free":
        raise SchedulingConflict("slot_id", f"slot {slot.id} is already booked")
    clash = connection.execute(select(appointments.c.id).where(
        appointments.c.patient_id == patient_id, appointments.c.status.in_(("booked", "arrived", "pending")),
        appointments.c.starts < slot.ends, appointments.c.ends > slot.starts,
        appointments.c.id != (ignore_appointment or ""))).first()
    if clash:
        raise SchedulingConflict("patient_id", f"the patient already has appointment {clash.id} at an overlapping time")


def _take(connection: Connection, slot_id: str, status: str, expected: str) -> None:
    """Flip the slot's status in the index and in its Slot resource; conflict if someone else got there first."""
    changed = connection.execute(update(appointment_slots).where(appointment_slots.c.id == slot_id,
                                                                 appointment_slots.c.status == expected).values(status=status))
    if changed.rowcount != 1:
        raise SchedulingConflict("slot_id", f"slot {slot_id} is no longer {expected}")
    resource = load(connection, "Slot", slot_id)
    resource["status"] = status
    save(connection, [resource])


def _practitioner(connection: Connection, practitioner_id: str) -> str | None:
    try:
        return practitioner_name(load(connection, "Practitioner", practitioner_id))
    except NotFound:
        return None


def book(connection: Connection, slot_id: str, patient_id: str, now: datetime, practitioner_id: str | None = None,
         reason: str | None = None, leads: tuple[timedelta, ...] = DEFAULT_LEADS, channels=CHANNELS) -> dict:
    """Book ``slot_id`` for a patient; returns the stored Appointment and plans its reminders."""
    if not exists(connection, "Patient", patient_id):
        raise NotFound(f"Patient/{patient_id}")
    slot = _slot(connection, slot_id)
    _check_slot(connection, slot, patient_id, now, practitioner_id)
    _take(connection, slot_id, "busy", "free")
    minutes = int((utc(slot.ends) - utc(slot.starts)).total_seconds() // 60)
    with_whom = _practitioner(connection, slot.practitioner_id)
    appointment = {"resourceType": "Appointment", "id": str(uuid.uuid4()), "status": "booked",
                   "description": f"Appointment{' with ' + with_whom if with_whom else ''}",
                   "start": utc(slot.starts).isoformat(), "end": utc(slot.ends).isoformat(), "minutesDuration": minutes,
                   "slot": [{"reference": f"Slot/{slot_id}"}], "created": now.date().isoformat(),
                   "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "required": "required", "status": "accepted"},
                                   {"actor": {"reference": f"Practitioner/{slot.practitioner_id}"}, "required": "required",
                                    "status": "accepted"}]}
    if reason:
        appointment["reasonCode"] = [{"text": reason}]
        appointment["comment"] = reason
    save(connection, [appointment])
    connection.execute(insert(appointments), {"id": appointment["id"], "patient_id": patient_id, "practitioner_id": slot.practitioner_id,
                                              "slot_id": slot_id, "starts": utc(slot.starts), "ends": utc(slot.ends), "status": "booked"})
    plan_appointment(connection, appointment, now, leads, channels, with_whom)
    return load(connection, "Appointment", appointment["id"])


def appointment_row(connection: Connection, appointment_id: str):
    """The index row of an appointment (patient, practitioner, slot, times, status); ``NotFound`` otherwise."""
    row = connection.execute(select(appointments).where(appointments.c.id == appointment_id)).first()
    if row is None:
        raise NotFound(f"Appointment/{appointment_id}")
    return row


def _changeable(row, now: datetime) -> None:
    if row.status != "booked":
        raise SchedulingConflict("appointment_id", f"appointment {row.id} is {row.status} and can no longer be changed")
    if utc(row.starts) <= now:
        raise SchedulingConflict("appointment_id", f"appointment {row.id} has already started")


def reschedule(connection: Connection, appointment_id: str, new_slot_id: str, now: datetime,
               leads: tuple[timedelta, ...] = DEFAULT_LEADS, channels=CHANNELS) -> dict:
    """Move a booked appointment to another free slot (same patient checks); its reminders are re-planned."""
    row = appointment_row(connection, appointment_id)
    _changeable(row, now)
    if new_slot_id == row.slot_id:
        raise SchedulingConflict("slot_id", "the appointment is already in that slot")
    slot = _slot(connection, new_slot_id)
    _check_slot(connection, slot, row.patient_id, now, None, ignore_appointment=appointment_id)
    _take(connection, new_slot_id, "busy", "free")
    _take(connection, row.slot_id, "free", "busy")
    resource = load(connection, "Appointment", appointment_id)
    with_whom = _practitioner(connection, slot.practitioner_id)
    resource.update({"start": utc(slot.starts).isoformat(), "end": utc(slot.ends).isoformat(),
                     "minutesDuration": int((utc(slot.ends) - utc(slot.starts)).total_seconds() // 60),
                     "slot": [{"reference": f"Slot/{new_slot_id}"}],
                     "description": f"Appointment{' with ' + with_whom if with_whom else ''}"})
    resource["participant"] = [p for p in resource["participant"] if not p["actor"]["reference"].startswith("Practitioner/")] + [
        {"actor": {"reference": f"Practitioner/{slot.practitioner_id}"}, "required": "required", "status": "accepted"}]
    save(connection, [resource])
    connection.execute(update(appointments).where(appointments.c.id == appointment_id).values(
        slot_id=new_slot_id, practitioner_id=slot.practitioner_id, starts=utc(slot.starts), ends=utc(slot.ends)))
    cancel_pending(connection, f"Appointment/{appointment_id}")
    plan_appointment(connection, resource, now, leads, channels, with_whom)
    return load(connection, "Appointment", appointment_id)


def cancel(connection: Connection, appointment_id: str, now: datetime, reason: str | None = None) -> dict:
    """Cancel a booked appointment: the slot is freed and its pending reminders are cancelled."""
    row = appointment_row(connection, appointment_id)
    _changeable(row, now)
    _take(connection, row.slot_id, "free", "busy")
    resource = load(connection, "Appointment", appointment_id)
    resource["status"] = "cancelled"
    resource["cancelationReason"] = {"text": reason or "cancelled by request"}
    save(connection, [resource])
    connection.execute(update(appointments).where(appointments.c.id == appointment_id).values(status="cancelled"))
    cancel_pending(connection, f"Appointment/{appointment_id}")
    return load(connection, "Appointment", appointment_id)


def patient_appointments(connection: Connection, patient_id: str, include_cancelled: bool = True) -> list[dict]:
    """A patient's appointments (stored resources), soonest first."""
    query = select(appointments.c.id).where(appointments.c.patient_id == patient_id).order_by(appointments.c.starts)
    if not include_cancelled:
        query = query.where(appointments.c.status != "cancelled")
    return [load(connection, "Appointment", r.id) for r in connection.execute(query)]
