"""A MedicationRequest -> its dose schedule in a window, or the reason it has none.

Each ``dosageInstruction`` is read from its structured ``timing`` when present, else from its free text
(``Dosage.text`` / ``patientInstruction``, parsed as a sig). "As needed" instructions get no fixed times.
The schedule is derived whatever the request's status; ``active`` and ``inactive_reason`` say separately
whether reminders should be sent (only for ``active`` / ``on-hold``-free, intent order/plan requests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from medai.assistant.reminders.sig import parse_sig
from medai.assistant.reminders.timing import expand_timing, parse_datetime
from medai.assistant.reminders.vocabulary import Vocabulary, load_vocabulary

REMINDER_STATUSES = {"active"}
SCHEDULED, UNSCHEDULED = "scheduled", "unscheduled"


@dataclass
class DoseTime:
    """One dose to remind about: when, which instruction, how much."""

    time: datetime
    sequence: int
    dose: str | None


@dataclass
class MedicationSchedule:
    """The outcome for one MedicationRequest: dose times (``scheduled``) or a reason (``unscheduled``)."""

    medication_request_id: str
    medication: str
    status: str
    doses: list[DoseTime] = field(default_factory=list)
    reason: str | None = None
    source: str | None = None  # "timing" or "text"
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    active: bool = False
    inactive_reason: str | None = None
    doses_per_day: float | None = None

    def to_dict(self) -> dict:
        """A JSON-ready view."""
        return {"medication_request_id": self.medication_request_id, "medication": self.medication, "status": self.status,
                "reason": self.reason, "source": self.source, "active": self.active, "inactive_reason": self.inactive_reason,
                "doses_per_day": self.doses_per_day, "notes": self.notes, "warnings": self.warnings,
                "doses": [{"time": d.time.isoformat(), "sequence": d.sequence, "dose": d.dose} for d in self.doses]}


def medication_name(request: dict) -> str:
    """The medicine's display text (CodeableConcept text, else the first coding's display, else the reference)."""
    concept = request.get("medicationCodeableConcept") or {}
    coding = (concept.get("coding") or [{}])[0]
    return concept.get("text") or coding.get("display") or (request.get("medicationReference") or {}).get("display") \
        or (request.get("medicationReference") or {}).get("reference") or "medication"


def dose_text(dosage: dict) -> str | None:
    """"2 tablet" / "1-2 puff" from ``doseAndRate`` (None when no dose is given)."""
    for rate in dosage.get("doseAndRate") or []:
        if quantity := rate.get("doseQuantity"):
            return f"{quantity.get('value', '?'):g} {quantity.get('unit') or quantity.get('code') or ''}".strip()
        if dose_range := rate.get("doseRange"):
            low, high = dose_range.get("low") or {}, dose_range.get("high") or {}
            return f"{low.get('value', '?'):g}-{high.get('value', '?'):g} {high.get('unit') or ''}".strip()
    return None


def therapy_start(request: dict, tz: ZoneInfo | timezone = timezone.utc) -> datetime | None:
    """When the course starts: ``dispenseRequest.validityPeriod.start``, else ``authoredOn``."""
    start = ((request.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("start") or request.get("authoredOn")
    return parse_datetime(start, tz) if start else None


def _as_needed(dosage: dict) -> str | None:
    if dosage.get("asNeededBoolean") or dosage.get("asNeededCodeableConcept"):
        why = (dosage.get("asNeededCodeableConcept") or {}).get("text") or \
              ((dosage.get("asNeededCodeableConcept") or {}).get("coding") or [{}])[0].get("display")
        return f"as needed{' for ' + why if why else ''}: no fixed times"
    return None


def _per_day(timing: dict) -> float | None:
    repeat = timing.get("repeat") or {}
    period, unit = repeat.get("period"), repeat.get("periodUnit")
    days = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1, "wk": 7, "mo": 30.4375, "a": 365.25}.get(unit)
    if period and days:
        return float(repeat.get("frequency") or 1) / (float(period) * days)
    return None


def _instruction_times(dosage: dict, start: datetime, end: datetime, first: datetime, tz, vocabulary: Vocabulary,
                       schedule: MedicationSchedule) -> list[datetime] | str:
    """Times for one dosageInstruction, or the reason it has none."""
    if reason := _as_needed(dosage):
        return reason
    timing, source = dosage.get("timing"), "timing"
    text = dosage.get("text") or dosage.get("patientInstruction")
    if not timing and text:
        parsed = parse_sig(text, vocabulary)
        schedule.warnings += parsed.warnings
        if parsed.dosage.get("asNeededBoolean") or parsed.dosage.get("asNeededCodeableConcept"):
            return _as_needed(parsed.dosage)
        if not parsed.has_timing:
            return f"the instruction text {text!r} states no timing"
        timing, source = parsed.dosage["timing"], "text"
    if not timing:
        return "no timing and no text in the dosage instruction"
    schedule.source = schedule.source or source
    result = expand_timing(timing, start, end, first, tz, vocabulary)
    schedule.notes += [n for n in result.notes if n not in schedule.notes]
    per_day = _per_day(timing)
    if per_day:
        schedule.doses_per_day = (schedule.doses_per_day or 0) + per_day
    return result.times if result.times else (result.reason or "no dose falls in the window")


def medication_schedule(request: dict, start: datetime | None = None, days: float = 7, tz: str | ZoneInfo = "UTC",
                        vocabulary: Vocabulary | None = None) -> MedicationSchedule:
    """Dose times of ``request`` in ``[start, start + days)`` (``start`` defaults to the start of therapy).

    Returns ``scheduled`` with the doses, or ``unscheduled`` with the reason (as needed, no dosage
    instruction, no timing and no text, the course ended before the window ...).
    """
    vocabulary = vocabulary or load_vocabulary()
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    schedule = MedicationSchedule(request.get("id", ""), medication_name(request), UNSCHEDULED)
    status, intent = request.get("status"), request.get("intent")
    schedule.active = status in REMINDER_STATUSES and intent in ("order", "original-order", "plan", "instance-order", "filler-order")
    if not schedule.active:
        schedule.inactive_reason = f"the request is {status!r} (intent {intent!r}): no reminders are sent"
    first = therapy_start(request, zone)
    if start is None and first is None:
        schedule.reason = "no authoredOn or validity start: the start of therapy is unknown"
        return schedule
    first = first or start
    window_start = start or first
    window_end = window_start + timedelta(days=days)
    instructions = request.get("dosageInstruction") or []
    if not instructions:
        schedule.reason = "no dosage instruction (no timing and no text)"
        return schedule
    reasons = []
    for index, dosage in enumerate(instructions):
        outcome = _instruction_times(dosage, window_start, window_end, first, zone, vocabulary, schedule)
        if isinstance(outcome, str):
            reasons.append(outcome if len(instructions) == 1 else f"instruction {dosage.get('sequence', index + 1)}: {outcome}")
            continue
        text = dosage.get("text") or dosage.get("patientInstruction")
        dose = dose_text(dosage) or (dose_text(parse_sig(text, vocabulary).dosage) if text else None)
        schedule.doses += [DoseTime(t, int(dosage.get("sequence") or index + 1), dose) for t in outcome]
    schedule.doses.sort(key=lambda d: (d.time, d.sequence))
    if schedule.doses:
        schedule.status = SCHEDULED
        schedule.notes += reasons
    else:
        schedule.reason = "; ".join(reasons)
    return schedule
