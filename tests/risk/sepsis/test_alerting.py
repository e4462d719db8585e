"""Alert policy decisions and alert-stream metrics on hand-worked sequences."""

import math

import numpy as np
import pytest
from pydantic import ValidationError

from medai.errors import InvalidInput
from medai.risk.sepsis.alerting import (
    AlertPolicy,
    AlertState,
    alerts_per_100_patient_days,
    lead_times,
    median_lead_time,
    sensitivity_by_patient,
)


def reasons(decisions):
    return [d.reason for d in decisions]


def test_first_alert_then_suppression_then_repeat():
    policy = AlertPolicy(threshold=0.5, suppression_hours=3)
    decisions = policy.decide([0.2, 0.6, 0.7, 0.4, 0.6, 0.6, 0.1])
    assert reasons(decisions) == ["below threshold", "first alert", "suppressed", "below threshold", "repeat alert",
                                  "suppressed", "below threshold"]
    assert [d.notify for d in decisions] == [False, True, False, False, True, False, False]


def test_escalation_breaks_through_suppression():
    policy = AlertPolicy(threshold=0.5, suppression_hours=6, escalation_delta=0.2)
    decisions = policy.decide([0.55, 0.7, 0.76, 0.8, 0.95], hours=[10, 11, 12, 13, 14])
    # 0.7 - 0.55 < 0.2; 0.76 - 0.55 >= 0.2 escalates; then compared with 0.76: 0.8 no, 0.95 - 0.76 < 0.2 no
    assert reasons(decisions) == ["first alert", "suppressed", "escalation", "suppressed", "suppressed"]
    assert [d.hour for d in decisions] == [10, 11, 12, 13, 14]


def test_silent_mode_never_notifies_but_records_what_would_fire():
    policy = AlertPolicy(threshold=0.5, suppression_hours=2, silent_mode=True)
    decisions = policy.decide([0.9, 0.9, 0.9, 0.1])
    assert not any(d.notify for d in decisions)
    assert reasons(decisions) == ["silent mode", "suppressed", "silent mode", "below threshold"]
    np.testing.assert_array_equal(policy.alert_flags([0.9, 0.9, 0.9, 0.1]), [True, False, True, False])


def test_streaming_state_matches_replay_and_checks_time_order():
    policy = AlertPolicy(threshold=5, suppression_hours=4)
    state = AlertState(policy)
    streamed = [state.update(score, hour) for hour, score in enumerate([3, 5, 7, float("nan"), 6, 5])]
    assert streamed == policy.decide([3, 5, 7, float("nan"), 6, 5])
    assert streamed[3].reason == "below threshold" and streamed[3].score is None
    assert state.last_alert_hour == 5 and state.last_alert_score == 5
    with pytest.raises(InvalidInput, match="time order"):
        state.update(9, 2)


def test_zero_suppression_alerts_every_hour_above_threshold():
    decisions = AlertPolicy(threshold=1, suppression_hours=0).decide([1, 1, 0, 2])
    assert [d.notify for d in decisions] == [True, True, False, True]


def test_policy_validation_and_yaml(tmp_path):
    with pytest.raises(ValidationError):
        AlertPolicy(threshold=0.5, suppression_hours=-1)
    with pytest.raises(ValidationError):
        AlertPolicy(threshold=math.inf)
    with pytest.raises(ValidationError):
        AlertPolicy(threshold=0.5, escalation_delta=0)
    path = tmp_path / "policy.yaml"
    path.write_text("threshold: 0.4\nsilent_mode: true\nsuppression_hours: 8\nescalation_delta: 0.15\n")
    assert AlertPolicy.from_yaml(path) == AlertPolicy(threshold=0.4, silent_mode=True, suppression_hours=8, escalation_delta=0.15)


def cohort():
    # patient A: septic, first positive label at 10 -> onset 16; alerts at 8 and 14 -> lead 8 h
    # patient B: septic, first positive at 4 -> onset 10; first alert at 12 (late but within onset + 3)
    # patient C: septic, first positive at 0 -> onset 6; alert at 10 (too late)
    # patient D: not septic, 48 h, 2 alerts
    a = np.r_[np.zeros(10), np.ones(14)], np.isin(np.arange(24), [8, 14])
    b = np.r_[np.zeros(4), np.ones(10)], np.isin(np.arange(14), [12])
    c = np.ones(12), np.isin(np.arange(12), [10])
    d = np.zeros(48), np.isin(np.arange(48), [3, 30])
    labels, flags = zip(a, b, c, d)
    return list(labels), list(flags)


def test_alert_rate_per_100_patient_days():
    labels, flags = cohort()
    # 2 + 1 + 1 + 2 = 6 alerts over 24 + 14 + 12 + 48 = 98 hours
    assert alerts_per_100_patient_days(flags) == pytest.approx(6 / (98 / 24) * 100)
    assert alerts_per_100_patient_days([np.zeros(24)]) == 0.0


def test_lead_times_and_sensitivity():
    labels, flags = cohort()
    np.testing.assert_array_equal(lead_times(labels, flags), [8])
    assert median_lead_time(labels, flags) == 8
    assert sensitivity_by_patient(labels, flags) == pytest.approx(2 / 3)
    assert sensitivity_by_patient(labels, flags, late_hours=0) == pytest.approx(1 / 3)
    assert math.isnan(median_lead_time(labels[1:], flags[1:]))


def test_lead_time_median_over_patients():
    labels = [np.r_[np.zeros(20), np.ones(5)]] * 3  # onset 26
    flags = [np.isin(np.arange(25), [h]) for h in (24, 20, 2)]
    np.testing.assert_array_equal(lead_times(labels, flags), [2, 6, 24])
    assert median_lead_time(labels, flags) == 6


def test_metric_inputs_are_checked():
    with pytest.raises(InvalidInput, match=r"alert_flags_per_patient\[0\]"):
        lead_times([np.zeros(3)], [np.zeros(4)])
    with pytest.raises(InvalidInput, match="no septic patient"):
        sensitivity_by_patient([np.zeros(3)], [np.ones(3)])
    with pytest.raises(InvalidInput, match="0/1"):
        alerts_per_100_patient_days([[0, 2]])
