"""FHIR Observations into the model's hourly rows, and the streaming monitor."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from medai.core.records import Coding, Concept, Observation
from medai.errors import InvalidInput
from medai.risk.sepsis.monitor import SepsisMonitor
from medai.risk.sepsis.observations import hourly_rows, variable_value

START = datetime(2026, 11, 30, 8, tzinfo=timezone.utc)


def obs(code, value, unit, minutes):
    return Observation(id=f"{code}-{minutes}", patient_id="p1", status="final", value=value, unit=unit,
                       code=Concept(codings=[Coding(system="http://loinc.org", code=code)]), effective=START + timedelta(minutes=minutes))


def test_loinc_codes_map_to_challenge_columns():
    assert variable_value(obs("8867-4", 110, "/min", 0)) == (0, 110.0)
    assert variable_value(obs("2524-7", 4.1, "mmol/L", 0)) == (22, 4.1)
    assert variable_value(obs("3150-0", 40, "%", 0)) == (10, 0.4)


@pytest.mark.parametrize("observation,message", [
    (obs("2093-3", 200, "mg/dL", 0), "not one of the sepsis model's variables"),
    (obs("2524-7", 4.1, "g/L", 0), "does not convert"),
])
def test_unknown_codes_and_units_are_named(observation, message):
    with pytest.raises(InvalidInput, match=message):
        variable_value(observation)


def test_hourly_rows_take_the_last_value_in_each_hour():
    rows = hourly_rows([obs("8867-4", 90, "/min", 5), obs("8867-4", 95, "/min", 50), obs("8867-4", 120, "/min", 130)], START, 70, 1)
    assert rows.shape == (3, 40)
    assert rows[0, 0] == 95 and np.isnan(rows[1, 0]) and rows[2, 0] == 120
    assert list(rows[:, 39]) == [1, 2, 3] and rows[0, 34] == 70


FEEDS = [(0, "8867-4", "/min"), (1, "59408-5", "%"), (2, "8310-5", "Cel"), (3, "8480-6", "mm[Hg]"), (4, "8478-0", "mm[Hg]"),
         (6, "9279-1", "/min"), (22, "2524-7", "mmol/L"), (31, "6690-2", "10*3/uL")]


def test_monitor_updates_incrementally_and_alerts(tiny_model, synthetic_stays):
    monitor = SepsisMonitor(tiny_model)
    stay = next(s for s in synthetic_stays[60:] if s.labels.any())
    updates = []
    for hour, row in enumerate(stay.values):
        for column, code, unit in FEEDS:
            if not np.isnan(row[column]):
                updates.append(monitor.observe("p1", obs(code, float(row[column]), unit, hour * 60 + 10 + column), row[34], int(row[35])))
    risks = [u.probability for u in updates]
    assert risks[-1] > risks[0]
    notified = [u for u in updates if u.decision.notify]
    assert notified and notified[0].decision.reason == "first alert"
    assert len(notified) < sum(u.probability >= tiny_model.threshold for u in updates)  # suppression works
    assert updates[-1].prediction.explanation.contributions


def test_warm_start_continues_from_stored_history(tiny_model, synthetic_stays):
    stay = synthetic_stays[9]
    history = stay.values[:-1]
    monitor = SepsisMonitor(tiny_model)
    monitor.warm_start("p9", history, START, 70, 1)
    hour = len(history) - 1
    update = monitor.observe("p9", obs("8867-4", 130.0, "/min", hour * 60 + 30), 70, 1)
    expected_stream = tiny_model.stream()
    for row in history[:-1]:
        expected_stream.update(row)
    last = history[-1].copy()
    last[0] = 130.0
    assert update.hour == hour
    assert update.probability == pytest.approx(expected_stream.peek(last))
