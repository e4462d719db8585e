"""FHIR Timing -> dose times (hand-worked), free-text sigs -> Dosage, refill dates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from medai.assistant.reminders.medication import medication_schedule
from medai.assistant.reminders.refill import refill_plan
from medai.assistant.reminders.sig import parse_sig
from medai.assistant.reminders.timing import expand_timing
from medai.core.fhir import validate_resource

START = datetime(2030, 3, 4, 14, 20, tzinfo=timezone.utc)  # Monday afternoon


def _hhmm(result):
    return [t.strftime("%a %H:%M") for t in result.times]


def _expand(repeat, days=7, start=START, tz=timezone.utc):
    return expand_timing({"repeat": repeat}, start, start + timedelta(days=days), start, tz)


def test_bid_for_seven_days_gives_fourteen_doses_from_the_next_standard_time():
    result = _expand({"frequency": 2, "period": 1, "periodUnit": "d", "boundsDuration": {"value": 7, "code": "d"}}, days=10)
    # starts 14:20 Monday: 21:00 Monday ... 09:00 the next Monday (7 days = until 14:20 Monday)
    assert len(result.times) == 14
    assert _hhmm(result)[:3] == ["Mon 21:00", "Tue 09:00", "Tue 21:00"] and _hhmm(result)[-1] == "Mon 09:00"


def test_every_six_hours_runs_on_the_daily_grid_and_count_stops_it():
    assert _hhmm(_expand({"frequency": 1, "period": 6, "periodUnit": "h"}, days=1)) == ["Mon 18:00", "Tue 00:00", "Tue 06:00", "Tue 12:00"]
    counted = _expand({"frequency": 1, "period": 5, "periodUnit": "h", "count": 3})
    assert _hhmm(counted) == ["Mon 14:20", "Mon 19:20", "Tue 00:20"]  # 5 h does not divide a day: from the start


def test_when_time_of_day_day_of_week_and_local_time_zone():
    meals = _expand({"frequency": 3, "period": 1, "periodUnit": "d", "when": ["C"]}, days=1)
    assert _hhmm(meals) == ["Mon 18:30", "Tue 08:00", "Tue 12:30"]
    bedtime_offset = _expand({"when": ["HS"], "offset": 30}, days=2)
    assert _hhmm(bedtime_offset) == ["Mon 22:30", "Tue 22:30"]
    weekly = _expand({"frequency": 1, "period": 1, "periodUnit": "wk", "dayOfWeek": ["mon", "thu"], "timeOfDay": ["07:30:00"]}, days=14)
    assert _hhmm(weekly) == ["Thu 07:30", "Mon 07:30", "Thu 07:30", "Mon 07:30"]  # to Monday 14:20 two weeks on
    boston = _expand({"frequency": 1, "period": 1, "periodUnit": "d", "when": ["MORN"]}, days=2, tz=ZoneInfo("America/New_York"))
    assert [t.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") for t in boston.times] == ["08:00", "08:00"]
    assert boston.times[0].utcoffset() == timedelta(hours=-5)


def test_long_periods_bounds_and_reasons():
    assert _hhmm(_expand({"frequency": 1, "period": 60, "periodUnit": "d"})) == ["Tue 09:00"]
    later = expand_timing({"repeat": {"frequency": 1, "period": 60, "periodUnit": "d"}}, START + timedelta(days=60),
                          START + timedelta(days=61), START)
    assert [t.date().isoformat() for t in later.times] == ["2030-05-04"]
    ended = expand_timing({"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "boundsPeriod": {"end": "2030-03-01"}}},
                          START, START + timedelta(days=7), START - timedelta(days=30))
    assert ended.times == [] and "ended on 2030-03-02" in ended.reason
    assert "no period" in _expand({"frequency": 2}).reason
    assert expand_timing({"code": {"coding": [{"code": "Q8H"}]}}, START, START + timedelta(days=1), START).times[0].hour == 22


@pytest.mark.parametrize("text, repeat, extra", [
    ("1 tab PO BID x 7 days", {"frequency": 2, "period": 1, "periodUnit": "d", "boundsDuration": {"value": 7, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}},
     {"doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}),
    ("take 2 tablets by mouth every 6 hours as needed for pain", {"frequency": 1, "period": 6, "periodUnit": "h"},
     {"asNeededCodeableConcept": {"text": "pain"}, "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet"}}]}),
    ("qhs", {"when": ["HS"], "frequency": 1, "period": 1, "periodUnit": "d"}, {}),
    ("q8h", {"frequency": 1, "period": 8, "periodUnit": "h"}, {}),
    ("TID with meals", {"frequency": 3, "period": 1, "periodUnit": "d", "when": ["C"]}, {}),
    ("once daily in the morning", {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["MORN"]}, {}),
    ("1-2 puffs q4-6h prn wheezing", {"frequency": 1, "period": 4, "periodUnit": "h", "periodMax": 6},
     {"asNeededCodeableConcept": {"text": "wheezing"}}),
    ("10 units subcut at 8 am and 8 pm", {"timeOfDay": ["08:00:00", "20:00:00"], "frequency": 2, "period": 1, "periodUnit": "d"}, {}),
    ("take one tablet every Monday, Wednesday and Friday", {"dayOfWeek": ["mon", "wed", "fri"], "frequency": 1, "period": 1, "periodUnit": "d"}, {}),
])
def test_sig_cases(text, repeat, extra):
    parsed = parse_sig(text)
    assert parsed.dosage["timing"]["repeat"] == repeat
    for key, value in extra.items():
        assert parsed.dosage[key] == value
    request = {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": {"reference": "Patient/p"},
               "medicationCodeableConcept": {"text": "x"}, "dosageInstruction": [parsed.dosage]}
    validate_resource(request)  # the Dosage is valid FHIR R4


def test_sig_spans_warnings_and_no_timing():
    parsed = parse_sig("1 tab po qd")
    assert [(s.kind, s.text) for s in parsed.spans] == [("dose", "1 tab"), ("route", "po"), ("frequency", "qd")]
    assert parsed.dosage["route"]["coding"][0]["code"] == "26643006"
    assert any("Do Not Use" in w for w in parsed.warnings)
    assert not parse_sig("take as directed by your doctor").has_timing


def _request(dosage, dispense=None, status="active"):
    request = {"resourceType": "MedicationRequest", "id": "m1", "status": status, "intent": "order",
               "authoredOn": "2030-03-04T14:20:00+00:00", "medicationCodeableConcept": {"text": "amoxicillin 500 MG"},
               "subject": {"reference": "Patient/p"}, "dosageInstruction": dosage}
    if dispense:
        request["dispenseRequest"] = dispense
    return request


def test_medication_schedule_from_text_and_reasons():
    schedule = medication_schedule(_request([{"text": "1 cap PO TID x 7 days"}]), days=10)
    assert schedule.status == "scheduled" and schedule.source == "text" and len(schedule.doses) == 21
    assert schedule.doses[0].dose == "1 capsule"
    prn = medication_schedule(_request([{"asNeededBoolean": True, "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}}}]))
    assert prn.status == "unscheduled" and prn.reason == "as needed: no fixed times"
    stopped = medication_schedule(_request([{"text": "daily"}], status="stopped"))
    assert stopped.status == "scheduled" and not stopped.active and "stopped" in stopped.inactive_reason
    assert medication_schedule(_request([])).reason == "no dosage instruction (no timing and no text)"
    assert medication_schedule(_request([{"sequence": 1}])).reason == "no timing and no text in the dosage instruction"


def test_refill_dates_from_quantity_and_from_supply_duration():
    dosage = [{"timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}, "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]}]
    by_quantity = refill_plan(_request(dosage, {"quantity": {"value": 60, "unit": "tablet"}, "numberOfRepeatsAllowed": 2}), 2)
    assert by_quantity.supply_days == 30
    assert [d.date().isoformat() for d in by_quantity.refill_dates] == ["2030-04-03", "2030-05-03"]
    assert [d.date().isoformat() for d in by_quantity.reminders] == ["2030-03-31", "2030-04-30"]
    assert by_quantity.runs_out.date().isoformat() == "2030-06-02"
    by_duration = refill_plan(_request(dosage, {"expectedSupplyDuration": {"value": 90, "unit": "days", "code": "d"},
                                                "numberOfRepeatsAllowed": 3, "validityPeriod": {"start": "2030-03-04", "end": "2030-09-30"}}), 2)
    assert [d.date().isoformat() for d in by_duration.refill_dates] == ["2030-06-02", "2030-08-31"]
    assert "validity period" in by_duration.notes[0]
    assert refill_plan(_request(dosage), 2).reason.startswith("no dispenseRequest")
    mismatch = refill_plan(_request(dosage, {"quantity": {"value": 100, "unit": "mL"}, "numberOfRepeatsAllowed": 1}), 2)
    assert mismatch.reason and "mL" in mismatch.reason
