"""Operating thresholds: targets met, optima found, curves equal to a brute-force count."""

from __future__ import annotations

import numpy as np
import pytest

from medai.errors import InvalidInput
from medai.evaluate import threshold_curve, threshold_for_sensitivity, threshold_maximising, threshold_youden


def _sens_spec(y: np.ndarray, score: np.ndarray, threshold: float) -> tuple[float, float]:
    called = score >= threshold
    return called[y == 1].mean(), (~called[y == 0]).mean()


@pytest.mark.parametrize("target", [0.5, 0.8, 0.9, 0.95, 1.0])
def test_threshold_for_sensitivity_meets_the_target_with_the_highest_threshold(make_predictions, target: float) -> None:
    y, p = make_predictions(1000)
    p = np.round(p, 2)  # ties
    threshold = threshold_for_sensitivity(y, p, target)
    assert _sens_spec(y, p, threshold)[0] >= target
    higher = np.unique(p[p > threshold])
    if higher.size:
        assert _sens_spec(y, p, higher.min())[0] < target


def test_threshold_for_sensitivity_checks_its_input() -> None:
    with pytest.raises(InvalidInput, match="target: must be a sensitivity in"):
        threshold_for_sensitivity([0, 1], [0.2, 0.8], 1.5)
    with pytest.raises(InvalidInput, match="y_true: holds no positive cases"):
        threshold_for_sensitivity([0, 0], [0.2, 0.8], 0.9)


def test_youden_matches_brute_force(make_predictions) -> None:
    y, p = make_predictions(500, seed=4)
    best = max(np.unique(p), key=lambda t: sum(_sens_spec(y, p, t)))
    assert threshold_youden(y, p) == pytest.approx(best)
    with pytest.raises(InvalidInput, match="needs both positive and negative"):
        threshold_youden([1, 1], [0.2, 0.3])


def test_threshold_maximising_an_objective(make_predictions) -> None:
    y, p = make_predictions(400, seed=5)

    def accuracy(labels: np.ndarray, called: np.ndarray) -> float:
        return float((labels == called).mean())

    chosen = threshold_maximising(y, p, accuracy)
    best = max(accuracy(y, (p >= t).astype(int)) for t in np.unique(p))
    assert accuracy(y, (p >= chosen).astype(int)) == pytest.approx(best)
    assert threshold_maximising(y, p, accuracy, candidates=[0.2, 0.5, 0.8]) == 0.5
    many = threshold_maximising(y, p, accuracy, max_candidates=20)
    assert accuracy(y, (p >= many).astype(int)) > best - 0.05


def test_threshold_curve_matches_counting(make_predictions) -> None:
    y, p = make_predictions(300, seed=6)
    curve = threshold_curve(y, p, thresholds=[0.25, 0.5, 0.75])
    for k, t in enumerate([0.25, 0.5, 0.75]):
        called = p >= t
        assert curve.sensitivity[k] == pytest.approx(called[y == 1].mean())
        assert curve.specificity[k] == pytest.approx((~called[y == 0]).mean())
        assert curve.ppv[k] == pytest.approx(y[called].mean())
        assert curve.npv[k] == pytest.approx(1 - y[~called].mean())
        assert curve.alert_rate[k] == pytest.approx(called.mean())
    full = threshold_curve(y, p)
    assert np.all(np.diff(full.threshold) < 0) and full.alert_rate[-1] == 1.0
    assert np.isnan(threshold_curve(y, p, [2.0]).ppv[0])  # nobody called positive
