"""Refill dates from ``MedicationRequest.dispenseRequest``.

Days of supply per fill come from ``expectedSupplyDuration``, else ``quantity`` divided by the daily use
(doses a day x dose quantity, when the units agree). The first fill (``initialFill`` when given) starts at the
start of therapy; each of ``numberOfRepeatsAllowed`` refills is due when the previous supply runs out, and
none after ``validityPeriod.end``. A reminder goes ``lead_days`` before each refill date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from medai.assistant.reminders.timing import duration_delta, parse_datetime


@dataclass
class RefillPlan:
    """Supply per fill, refill dates and reminder times; or the reason there is no plan."""

    supply_days: float | None = None
    refill_dates: list[datetime] = field(default_factory=list)
    reminders: list[datetime] = field(default_factory=list)
    runs_out: datetime | None = None
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready view."""
        return {"supply_days": self.supply_days, "refill_dates": [d.isoformat() for d in self.refill_dates],
                "reminders": [d.isoformat() for d in self.reminders], "runs_out": self.runs_out.isoformat() if self.runs_out else None,
                "reason": self.reason, "notes": self.notes}


def _daily_use(dosage: list[dict], doses_per_day: float | None) -> tuple[float | None, str | None]:
    """Units used a day (doses a day x dose value) and the dose unit."""
    if not doses_per_day:
        return None, None
    for instruction in dosage:
        for rate in instruction.get("doseAndRate") or []:
            quantity = rate.get("doseQuantity") or (rate.get("doseRange") or {}).get("high")
            if quantity and quantity.get("value"):
                return doses_per_day * float(quantity["value"]), quantity.get("unit") or quantity.get("code")
    return doses_per_day, None


def _supply_days(dispense: dict, fill: dict, daily: float | None, dose_unit: str | None, start: datetime,
                 notes: list[str]) -> float | None:
    duration = fill.get("duration") or dispense.get("expectedSupplyDuration")
    if duration:
        delta = duration_delta(duration, start)
        if delta is not None:
            return delta.total_seconds() / 86400
        notes.append(f"supply duration unit {duration.get('code') or duration.get('unit')!r} is not a unit of time")
    quantity = fill.get("quantity") or dispense.get("quantity")
    if quantity and quantity.get("value") and daily:
        unit = quantity.get("unit") or quantity.get("code")
        if dose_unit and unit and dose_unit.lower().rstrip("s") != unit.lower().rstrip("s") and unit not in ("1", "{tbl}"):
            notes.append(f"quantity in {unit!r} but doses in {dose_unit!r}: supply not computed from quantity")
            return None
        return float(quantity["value"]) / daily
    return None


def refill_plan(request: dict, doses_per_day: float | None, lead_days: float = 3) -> RefillPlan:
    """Refill dates and reminders for ``request`` given its doses per day (from ``medication_schedule``)."""
    dispense = request.get("dispenseRequest")
    if not dispense:
        return RefillPlan(reason="no dispenseRequest: the supply and refills are not stated")
    start_text = (dispense.get("validityPeriod") or {}).get("start") or request.get("authoredOn")
    if not start_text:
        return RefillPlan(reason="no authoredOn or validity start: the first fill date is unknown")
    start = parse_datetime(start_text)
    plan = RefillPlan()
    daily, unit = _daily_use(request.get("dosageInstruction") or [], doses_per_day)
    initial = dispense.get("initialFill") or {}
    first_supply = _supply_days(dispense, initial, daily, unit, start, plan.notes)
    supply = _supply_days(dispense, {}, daily, unit, start, plan.notes)
    if first_supply is None or supply is None:
        plan.reason = ("the supply per fill is unknown: give expectedSupplyDuration, or quantity with a fixed-time dosage"
                       if not plan.notes else plan.notes[-1])
        return plan
    plan.supply_days = round(supply, 2)
    end_text = (dispense.get("validityPeriod") or {}).get("end")
    valid_until = parse_datetime(end_text) + (timedelta(days=1) if end_text and len(end_text) == 10 else timedelta(0)) if end_text else None
    repeats = int(dispense.get("numberOfRepeatsAllowed") or 0)
    moment = start + timedelta(days=first_supply)
    for _ in range(repeats):
        if valid_until is not None and moment > valid_until:
            plan.notes.append(f"refills after {valid_until.date().isoformat()} fall outside the validity period")
            break
        plan.refill_dates.append(moment)
        moment += timedelta(days=supply)
    plan.runs_out = moment
    plan.reminders = [d - timedelta(days=lead_days) for d in plan.refill_dates]
    if not plan.refill_dates:
        plan.notes.append("no refills allowed: the supply runs out on " + moment.date().isoformat())
    return plan
