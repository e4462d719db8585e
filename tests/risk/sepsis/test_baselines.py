"""qSOFA, SIRS and NEWS2 per hour on small hand-built stays."""

import numpy as np
import pytest

from medai.datasets.physionet2019 import COLUMNS, PatientStay
from medai.risk.sepsis.baselines import BASELINES, news2, qsofa, sirs


def make_stay(hours: int, **measurements: dict[int, float]) -> PatientStay:
    """A stay of ``hours`` rows, all NaN except ``column={hour: value}``."""
    values = np.full((hours, len(COLUMNS)), np.nan)
    for column, points in measurements.items():
        for hour, value in points.items():
            values[hour, COLUMNS.index(column)] = value
    return PatientStay("p1", values, list(COLUMNS), np.zeros(hours, dtype=np.int8))


@pytest.fixture
def stay():
    # hour 0: nothing measured; 1: HR 95, Resp 22; 2: Temp 38.5; 3: SBP 88, O2Sat 90, WBC 3.5; 4: nothing new
    return make_stay(5, HR={1: 95}, Resp={1: 22}, Temp={2: 38.5}, SBP={3: 88}, O2Sat={3: 90}, WBC={3: 3.5})


def test_qsofa_is_causal_and_forward_filled(stay):
    np.testing.assert_array_equal(qsofa(stay), [0, 1, 1, 2, 2])


def test_sirs_counts_criteria(stay):
    np.testing.assert_array_equal(sirs(stay), [0, 2, 3, 4, 4])


def test_news2_reuses_chart_and_scores_unmeasured_as_zero(stay):
    # HR 95 -> 1, Resp 22 -> 2, Temp 38.5 -> 1, SBP 88 -> 3, SpO2 90 -> 3
    np.testing.assert_array_equal(news2(stay), [0, 3, 4, 10, 10])


def test_boundaries_follow_the_published_cut_offs():
    stay = make_stay(2, Resp={0: 20}, SBP={0: 101, 1: 100}, Temp={0: 38.0, 1: 36.0}, HR={0: 90},
                     WBC={0: 12.0, 1: 4.0}, PaCO2={1: 31.9})
    np.testing.assert_array_equal(qsofa(stay), [0, 1])
    # hour 0: no criterion at the exact cut-offs; hour 1: PaCO2 < 32 meets the respiratory criterion
    np.testing.assert_array_equal(sirs(stay), [0, 1])


def test_low_values_meet_sirs_criteria():
    stay = make_stay(1, Temp={0: 35.5}, HR={0: 60}, Resp={0: 12}, WBC={0: 2.0})
    np.testing.assert_array_equal(sirs(stay), [2])


def test_baselines_cover_every_hour_without_nan(stay):
    assert set(BASELINES) == {"qSOFA", "SIRS", "NEWS2"}
    assert {name: threshold for name, (_, threshold) in BASELINES.items()} == {"qSOFA": 2, "SIRS": 2, "NEWS2": 5}
    for function, _ in BASELINES.values():
        scores = function(stay)
        assert scores.shape == (5,) and not np.isnan(scores).any()
    empty = make_stay(0)
    for function, _ in BASELINES.values():
        assert function(empty).shape == (0,)
