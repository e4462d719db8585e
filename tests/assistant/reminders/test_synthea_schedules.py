"""Every Synthea MedicationRequest yields a correct reminder schedule or a clear reason why not (real data)."""

from __future__ import annotations

import collections
import math
from datetime import timedelta

import pytest

from medai.assistant.reminders.medication import SCHEDULED, medication_schedule
from medai.assistant.reminders.refill import refill_plan
from medai.datasets import synthea

REASONS = ("as needed", "no dosage instruction", "no timing and no text", "states no timing")


def _requests(root):
    for _, bundle in synthea.load(root):
        for entry in bundle.get("entry", []):
            if entry["resource"]["resourceType"] == "MedicationRequest":
                yield entry["resource"]


def _check_scheduled(request: dict, schedule, days: int) -> None:
    start = schedule.doses[0].time
    times = [d.time for d in schedule.doses]
    first = request["authoredOn"]
    assert times == sorted(set(times)), "dose times must be distinct and ordered"
    assert all(t.isoformat() >= first[:10] for t in times)
    assert times[-1] - start < timedelta(days=days)
    per_day = schedule.doses_per_day
    if per_day * days < 1:
        assert len(times) == 1, (request["id"], per_day, len(times))
    else:
        assert abs(len(times) - per_day * days) <= math.ceil(per_day), (request["id"], per_day, len(times))
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) >= timedelta(hours=24 / per_day) * 0.5, (request["id"], min(gaps))


@pytest.mark.data
def test_every_synthea_request_is_scheduled_or_has_a_reason(data_dir, capsys):
    counts: collections.Counter = collections.Counter()
    reasons: collections.Counter = collections.Counter()
    failed = []
    for request in _requests(data_dir):
        counts["requests"] += 1
        schedule = medication_schedule(request, days=7)
        refill = refill_plan(request, schedule.doses_per_day)
        assert refill.refill_dates or refill.reason
        counts["active"] += schedule.active
        if schedule.status == SCHEDULED:
            try:
                _check_scheduled(request, schedule, 7)
            except AssertionError as error:
                failed.append((request["id"], str(error)))
                continue
            counts["scheduled"] += 1
        elif schedule.reason and any(r in schedule.reason for r in REASONS):
            counts["reasoned"] += 1
            reasons[schedule.reason] += 1
        else:
            failed.append((request["id"], schedule.reason))
    counts["failed"] = len(failed)
    with capsys.disabled():
        print(f"\nSynthea MedicationRequests: {dict(counts)}; reasons: {dict(reasons)}")
    assert counts["requests"] > 3000
    assert not failed, failed[:5]
    assert counts["scheduled"] + counts["reasoned"] == counts["requests"]
