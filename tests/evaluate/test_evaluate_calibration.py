"""Calibration measures and recalibrators on synthetic calibrated and miscalibrated probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import brier_score_loss

from medai.errors import InvalidInput
from medai.evaluate import (
    IsotonicRecalibrator,
    PlattRecalibrator,
    brier_score,
    calibration_slope_intercept,
    calibration_summary,
    expected_calibration_error,
    maximum_calibration_error,
    reliability_curve,
)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_ece_near_zero_when_calibrated_and_large_when_not(make_predictions, strategy: str) -> None:
    y, p = make_predictions(20_000)
    assert expected_calibration_error(y, p, strategy=strategy) < 0.02
    y, distorted = make_predictions(20_000, power=3.0)
    assert expected_calibration_error(y, distorted, strategy=strategy) > 0.15


def test_mce_bounds_ece_and_brier_matches_sklearn(make_predictions) -> None:
    y, p = make_predictions(5000, power=2.0)
    assert maximum_calibration_error(y, p) >= expected_calibration_error(y, p)
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p))


def test_reliability_curve_bins() -> None:
    y = [0, 0, 1, 1, 1, 0]
    p = [0.05, 0.15, 0.95, 1.0, 0.55, 0.45]
    curve = reliability_curve(y, p, n_bins=10)
    assert curve.count.tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 0, 2]  # 1.0 falls in the last bin
    assert curve.mean_predicted[9] == pytest.approx(0.975)
    assert curve.observed_rate[9] == 1.0
    assert math.isnan(curve.observed_rate[2])
    quantile = reliability_curve(y, p, n_bins=3, strategy="quantile")
    assert quantile.count.tolist() == [2, 2, 2]
    assert reliability_curve(y, [0.3] * 6, n_bins=5, strategy="quantile").count.tolist() == [6]


def test_slope_and_intercept(make_predictions) -> None:
    y, p = make_predictions(20_000)
    fit = calibration_slope_intercept(y, p)
    assert fit.slope == pytest.approx(1.0, abs=0.08)
    assert fit.intercept == pytest.approx(0.0, abs=0.08)
    assert fit.calibration_in_the_large == pytest.approx(0.0, abs=0.08)
    logit = np.log(p / (1 - p))
    overconfident = 1 / (1 + np.exp(-2 * logit))
    assert calibration_slope_intercept(y, overconfident).slope == pytest.approx(0.5, abs=0.05)
    assert math.isnan(calibration_slope_intercept([1, 1, 1], [0.2, 0.5, 0.9]).slope)


@pytest.mark.parametrize("recalibrator", [PlattRecalibrator(), IsotonicRecalibrator()])
def test_recalibration_reduces_ece_on_held_out_data(make_predictions, recalibrator) -> None:
    y, p = make_predictions(10_000, power=3.0)
    fitted = clone(recalibrator).fit(p[:5000], y[:5000])
    before = expected_calibration_error(y[5000:], p[5000:])
    after = expected_calibration_error(y[5000:], fitted.transform(p[5000:]))
    assert after < before / 3
    proba = fitted.predict_proba(p[:10])
    assert proba.shape == (10, 2) and np.allclose(proba.sum(axis=1), 1.0)


def test_recalibrators_follow_the_estimator_contract() -> None:
    platt = PlattRecalibrator(smooth_targets=False)
    assert platt.get_params() == {"smooth_targets": False}
    assert not hasattr(platt, "coef_")
    with pytest.raises(NotFittedError, match="call fit"):
        platt.transform([0.5])
    assert platt.fit([0.2, 0.4, 0.6, 0.7], [0, 1, 0, 1]) is platt
    assert hasattr(platt, "coef_") and hasattr(platt, "intercept_")
    with pytest.raises(InvalidInput, match="y: IsotonicRecalibrator needs both outcomes"):
        IsotonicRecalibrator().fit([0.2, 0.4], [1, 1])


def test_calibration_inputs_must_be_probabilities() -> None:
    with pytest.raises(InvalidInput, match=r"y_prob: must be probabilities in \[0, 1\]"):
        expected_calibration_error([0, 1], [0.2, 1.5])
    with pytest.raises(InvalidInput, match="strategy: must be 'uniform' or 'quantile'"):
        reliability_curve([0, 1], [0.2, 0.5], strategy="kmeans")  # type: ignore[arg-type]


def test_summary_serialises(make_predictions) -> None:
    y, p = make_predictions(500)
    data = calibration_summary(y, p).to_dict()
    assert {"ece", "mce", "brier", "fit", "curve"} <= set(data)
    assert len(data["curve"]["bin_edges"]) == 11
