"""Assistant scheduling adapter: ``/api/v1/appointments`` (slots, book, reschedule, cancel, iCalendar feed),
``/api/v1/reminders`` (sig parsing, medication reminder planning, adherence, dispatch) and
``/api/v1/notifications`` (the in-app notification centre).

Patients book and see only their own appointments, reminders and notifications; clinicians and admins see
all. Every read and write of patient data is audited in the same transaction as the write. Bad input is a
422 naming the field, calendar conflicts a 409 naming it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from medai.assistant.reminders.adherence import adherence_summary, log_dose
from medai.assistant.reminders.dispatch import dispatch_due
from medai.assistant.reminders.email import mailer_from_env
from medai.assistant.reminders.ical import patient_events, render
from medai.assistant.reminders.notifications import list_notifications, mark_read, notification_patient
from medai.assistant.reminders.plan import patient_reminders, plan_medication
from medai.assistant.reminders.sig import parse_sig
from medai.assistant.scheduling import booking
from medai.assistant.scheduling.resources import load, patient_resources
from medai.assistant.scheduling.slots import ScheduleTemplate, free_slots, publish_schedule
from medai.errors import InvalidInput, Problem
from medai.service.applications import Application
from medai.service.deps import ANY_PERSON, audit, check_patient_access, require_roles
from medai.service.errors import outcome_response, read_json_body
from medai.store.accounts import Principal
from medai.store.audit import AuditEvent, append_in

STAFF = ("clinician", "admin")
appointments_router = APIRouter(prefix="/api/v1/appointments", tags=["assistant: appointments"])
reminders_router = APIRouter(prefix="/api/v1/reminders", tags=["assistant: reminders"])
notifications_router = APIRouter(prefix="/api/v1/notifications", tags=["assistant: notifications"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


Zone = Annotated[str, AfterValidator(_known_zone)]


async def _body(request: Request, model: type[BaseModel]) -> BaseModel:
    data = await read_json_body(request)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput([Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()[:20]]) from None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _conflict(error: booking.SchedulingConflict) -> JSONResponse:
    return outcome_response(409, [Problem(error.field, str(error), "conflict")])


def _own_patient(principal: Principal, patient_id: str | None) -> str:
    """The patient a request is about: a patient's own record by default; 422 when staff give none."""
    if patient_id is None:
        if principal.role == "patient":
            return principal.patient_id
        raise InvalidInput(Problem("patient_id", "patient_id is required", "required"))
    check_patient_access(principal, patient_id)
    return patient_id


def _write_audit(connection, principal: Principal, action: str, patient_id: str | None, **detail) -> None:
    append_in(connection, AuditEvent(actor=principal.username, role=principal.role, action=action, patient_id=patient_id,
                                     detail=detail))


# -- appointments -----------------------------------------------------------------------------------

class ScheduleBody(_Strict):
    practitioner_id: str = Field(min_length=1)
    start: date
    days: int = Field(default=14, ge=1, le=366)
    template: ScheduleTemplate = Field(default_factory=ScheduleTemplate)


@appointments_router.post("/schedules", status_code=201)
async def create_schedule(request: Request, principal: Principal = Depends(require_roles("clinician", "admin", "service"))) -> dict:
    """Publish a practitioner's Schedule and free Slots from a template (staff only)."""
    body = await _body(request, ScheduleBody)
    with request.app.state.engine.begin() as connection:
        schedule, slots = publish_schedule(connection, body.practitioner_id, body.start, body.days, body.template)
        _write_audit(connection, principal, "write:schedule", None, practitioner=body.practitioner_id, slots=len(slots))
    return {"schedule": schedule, "slots": len(slots)}


@appointments_router.get("/slots")
def list_slots(request: Request, practitioner_id: str | None = None, start: datetime | None = None, days: int = Query(7, ge=1, le=90),
               principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Free slots from ``start`` (default now) for ``days`` days, optionally of one practitioner."""
    start = start or _now()
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    with request.app.state.engine.connect() as connection:
        return {"slots": free_slots(connection, start, start + timedelta(days=days), practitioner_id)}


class BookBody(_Strict):
    slot_id: str = Field(min_length=1)
    patient_id: str | None = Field(default=None, description="Required for staff; a patient books for themself.")
    practitioner_id: str | None = Field(default=None, description="When given, the slot must be this practitioner's.")
    reason: str | None = Field(default=None, max_length=500)


@appointments_router.post("", status_code=201)
async def book_appointment(request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))):
    """Book a slot; 409 when the slot is busy or past, of another practitioner, or the patient is double-booked."""
    body = await _body(request, BookBody)
    patient_id = _own_patient(principal, body.patient_id)
    try:
        with request.app.state.engine.begin() as connection:
            appointment = booking.book(connection, body.slot_id, patient_id, _now(), body.practitioner_id, body.reason)
            _write_audit(connection, principal, "write:appointment-book", patient_id, appointment=appointment["id"])
    except booking.SchedulingConflict as error:
        return _conflict(error)
    return JSONResponse(appointment, status_code=201)


@appointments_router.get("")
def list_appointments(request: Request, patient_id: str | None = None,
                      principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """A patient's appointments (a patient: their own)."""
    patient_id = _own_patient(principal, patient_id)
    with request.app.state.engine.connect() as connection:
        items = booking.patient_appointments(connection, patient_id)
    audit(request, principal, "read:appointments", patient_id=patient_id, detail={"count": len(items)})
    return {"patient_id": patient_id, "appointments": items}


def _appointment_for(request: Request, principal: Principal, appointment_id: str):
    with request.app.state.engine.connect() as connection:
        row = booking.appointment_row(connection, appointment_id)
    check_patient_access(principal, row.patient_id)
    return row


@appointments_router.get("/calendar.ics")
def calendar(request: Request, patient_id: str | None = None, days: int = Query(30, ge=1, le=366),
             principal: Principal = Depends(require_roles(*ANY_PERSON))) -> Response:
    """The patient's iCalendar (RFC 5545) feed: appointments with alarms, planned doses and refills."""
    patient_id = _own_patient(principal, patient_id)
    now = _now()
    with request.app.state.engine.connect() as connection:
        events = patient_events(connection, patient_id, now, days)
    audit(request, principal, "read:calendar", patient_id=patient_id, detail={"events": len(events)})
    return Response(render(events, now), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="medai.ics"'})


@appointments_router.get("/{appointment_id}")
def get_appointment(appointment_id: str, request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """One appointment (its patient, or staff)."""
    row = _appointment_for(request, principal, appointment_id)
    with request.app.state.engine.connect() as connection:
        resource = load(connection, "Appointment", appointment_id)
    audit(request, principal, "read:appointment", patient_id=row.patient_id)
    return resource


class RescheduleBody(_Strict):
    slot_id: str = Field(min_length=1)


@appointments_router.post("/{appointment_id}/reschedule")
async def reschedule_appointment(appointment_id: str, request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))):
    """Move an appointment to another free slot (409 on conflicts)."""
    body = await _body(request, RescheduleBody)
    row = _appointment_for(request, principal, appointment_id)
    try:
        with request.app.state.engine.begin() as connection:
            appointment = booking.reschedule(connection, appointment_id, body.slot_id, _now())
            _write_audit(connection, principal, "write:appointment-reschedule", row.patient_id, appointment=appointment_id)
    except booking.SchedulingConflict as error:
        return _conflict(error)
    return appointment


class CancelBody(_Strict):
    reason: str | None = Field(default=None, max_length=500)


@appointments_router.post("/{appointment_id}/cancel")
async def cancel_appointment(appointment_id: str, request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))):
    """Cancel an appointment: the slot is freed and its reminders cancelled (409 when already cancelled or started)."""
    body = await _body(request, CancelBody)
    row = _appointment_for(request, principal, appointment_id)
    try:
        with request.app.state.engine.begin() as connection:
            appointment = booking.cancel(connection, appointment_id, _now(), body.reason)
            _write_audit(connection, principal, "write:appointment-cancel", row.patient_id, appointment=appointment_id)
    except booking.SchedulingConflict as error:
        return _conflict(error)
    return appointment


# -- reminders --------------------------------------------------------------------------------------

class SigBody(_Strict):
    text: str = Field(min_length=1, max_length=1000)
    start: datetime | None = None
    days: float = Field(default=7, gt=0, le=90)
    timezone: Zone = "UTC"


@reminders_router.post("/sig")
async def read_sig(request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Parse a free-text sig into a FHIR Dosage and its dose times (no patient data involved)."""
    from medai.assistant.reminders.medication import medication_schedule

    body = await _body(request, SigBody)
    parsed = parse_sig(body.text)
    start = body.start or _now()
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    draft = {"resourceType": "MedicationRequest", "id": "sig", "status": "active", "intent": "order",
             "authoredOn": start.isoformat(), "dosageInstruction": [parsed.dosage]}
    schedule = medication_schedule(draft, start=start, days=body.days, tz=body.timezone)
    return {**parsed.to_dict(), "schedule": schedule.to_dict()}


class PlanBody(_Strict):
    patient_id: str | None = None
    medication_request_id: str | None = Field(default=None, description="One request; default: every active one.")
    days: float = Field(default=7, gt=0, le=90)
    channels: list[Literal["in-app", "email"]] = Field(default_factory=lambda: ["in-app"], min_length=1)
    timezone: Zone = "UTC"


@reminders_router.post("/medications")
async def plan_medications(request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Plan dose and refill reminders from the patient's stored MedicationRequests; each gets a schedule or a reason."""
    body = await _body(request, PlanBody)
    patient_id = _own_patient(principal, body.patient_id)
    now, results = _now(), []
    with request.app.state.engine.begin() as connection:
        if body.medication_request_id:
            requests = [load(connection, "MedicationRequest", body.medication_request_id)]
            if (requests[0].get("subject") or {}).get("reference") != f"Patient/{patient_id}":
                raise InvalidInput(Problem("medication_request_id", "the MedicationRequest is not this patient's", "value"))
        else:
            requests = patient_resources(connection, patient_id, "MedicationRequest")
        for item in requests:
            schedule, refill, planned = plan_medication(connection, item, patient_id, now, body.days, tuple(body.channels),
                                                        body.timezone)
            results.append({**schedule.to_dict(), "refill": refill.to_dict(), "reminders_planned": planned})
        _write_audit(connection, principal, "write:medication-reminders", patient_id, requests=len(requests))
    return {"patient_id": patient_id, "medications": results}


@reminders_router.get("")
def list_reminders(request: Request, patient_id: str | None = None, status: str | None = None,
                   principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """A patient's reminders (appointment, dose, refill) with their delivery status."""
    patient_id = _own_patient(principal, patient_id)
    with request.app.state.engine.connect() as connection:
        items = patient_reminders(connection, patient_id, status)
    audit(request, principal, "read:reminders", patient_id=patient_id, detail={"count": len(items)})
    return {"patient_id": patient_id, "reminders": items}


class DoseBody(_Strict):
    patient_id: str | None = None
    medication_request_id: str = Field(min_length=1)
    scheduled_time: datetime
    status: Literal["taken", "late", "skipped"]
    taken_at: datetime | None = None
    note: str | None = Field(default=None, max_length=500)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


@reminders_router.post("/adherence", status_code=201)
async def log_adherence(request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Log one scheduled dose as taken, late or skipped (taken over an hour late is recorded late)."""
    body = await _body(request, DoseBody)
    patient_id = _own_patient(principal, body.patient_id)
    with request.app.state.engine.begin() as connection:
        entry = log_dose(connection, patient_id, body.medication_request_id, _aware(body.scheduled_time), body.status,
                         principal.username, _now(), _aware(body.taken_at), body.note)
        _write_audit(connection, principal, "write:adherence", patient_id, status=entry["status"])
    return entry


@reminders_router.get("/adherence")
def get_adherence(request: Request, patient_id: str | None = None, days: int = Query(7, ge=1, le=365),
                  principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Adherence over the last ``days`` days: scheduled, taken, late, skipped, missing, per medication and overall."""
    patient_id = _own_patient(principal, patient_id)
    end = _now()
    with request.app.state.engine.connect() as connection:
        summary = adherence_summary(connection, patient_id, end - timedelta(days=days), end)
    audit(request, principal, "read:adherence", patient_id=patient_id)
    return summary


@reminders_router.post("/dispatch")
def dispatch(request: Request, principal: Principal = Depends(require_roles("admin", "service"))) -> dict:
    """Send every due reminder once (in-app now; e-mail when ``MEDAI_SMTP_HOST`` is set)."""
    report = dispatch_due(request.app.state.engine, _now(), mailer_from_env(request.app.state.settings))
    audit(request, principal, "dispatch:reminders", detail=report.to_dict())
    return report.to_dict()


# -- notifications ----------------------------------------------------------------------------------

@notifications_router.get("")
def notifications(request: Request, patient_id: str | None = None, unread: bool = False,
                  principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """The notification centre of a patient (a patient: their own), newest first, with the unread count."""
    patient_id = _own_patient(principal, patient_id)
    with request.app.state.engine.connect() as connection:
        result = list_notifications(connection, patient_id, unread)
    audit(request, principal, "read:notifications", patient_id=patient_id)
    return {"patient_id": patient_id, **result}


@notifications_router.post("/{notification_id}/read")
def read_notification(notification_id: str, request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """Mark one notification read (its patient, or staff)."""
    with request.app.state.engine.begin() as connection:
        patient_id = notification_patient(connection, notification_id)
        if principal.role == "patient" and principal.patient_id != patient_id:
            raise HTTPException(403, "patients may only see their own record")
        mark_read(connection, notification_id, _now())
        _write_audit(connection, principal, "write:notification-read", patient_id)
    return {"id": notification_id, "read": True}


def scheduling_application() -> Application:
    """Appointments, reminders and the notification centre of the assistant."""
    return Application(name="assistant-scheduling", routers=[appointments_router, reminders_router, notifications_router])
