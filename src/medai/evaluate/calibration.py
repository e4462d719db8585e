"""Calibration of predicted probabilities: reliability curve, ECE/MCE, Brier score, slope/intercept, recalibrators."""

from __future__ import annotations

import math
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from medai.errors import InvalidInput, Problem
from medai.evaluate._checks import as_probabilities, binary_inputs
from medai.evaluate._json import JsonResult
from medai.evaluate._logistic import fit_logistic, safe_logit

Strategy = Literal["uniform", "quantile"]


@dataclass(frozen=True)
class ReliabilityCurve(JsonResult):
    """Observed event rate against mean predicted probability in each bin (NaN in empty bins).

    Bin ``k`` holds ``bin_edges[k] <= p < bin_edges[k + 1]``; the last bin also holds its upper edge.
    """

    strategy: str
    bin_edges: np.ndarray
    count: np.ndarray
    mean_predicted: np.ndarray
    observed_rate: np.ndarray

    @property
    def gaps(self) -> np.ndarray:
        """``|observed_rate - mean_predicted|`` in the non-empty bins."""
        filled = self.count > 0
        return np.abs(self.observed_rate[filled] - self.mean_predicted[filled])

    @property
    def ece(self) -> float:
        """Expected calibration error: the bin gaps averaged with the bins' sizes as weights."""
        return float(np.sum(self.count[self.count > 0] * self.gaps) / self.count.sum())

    @property
    def mce(self) -> float:
        """Maximum calibration error: the largest bin gap."""
        return float(self.gaps.max())


@dataclass(frozen=True)
class CalibrationFit(JsonResult):
    """Logistic recalibration fits: ``logit P(y=1) = intercept + slope * logit(p)``.

    ``calibration_in_the_large`` is the intercept with the slope fixed at 1 (0 when the mean
    prediction matches the event rate). A slope below 1 means overconfident predictions. NaN when
    the fit does not exist (one class only, perfect separation, constant predictions).
    """

    slope: float
    intercept: float
    calibration_in_the_large: float


@dataclass(frozen=True)
class CalibrationSummary(JsonResult):
    """Every calibration measure of one set of predictions, as shown in a validation report."""

    ece: float
    mce: float
    brier: float
    fit: CalibrationFit
    curve: ReliabilityCurve


def _bin_edges(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise InvalidInput(Problem("n_bins", f"must be a positive integer, got {n_bins!r}"))
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)))
        return edges if edges.size > 1 else np.repeat(edges, 2)
    raise InvalidInput(Problem("strategy", f"must be 'uniform' or 'quantile', got {strategy!r}", code="code-invalid"))


def reliability_curve(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: Strategy = "uniform") -> ReliabilityCurve:
    """Bin predictions into ``n_bins`` equal-width (``"uniform"``) or equal-count (``"quantile"``) bins.

    Quantile bins that would coincide (many tied predictions) are merged, so there may be fewer.
    """
    y, p = binary_inputs(y_true, y_prob, score_name="y_prob", probabilities=True)
    edges = _bin_edges(p, n_bins, strategy)
    index = np.searchsorted(edges[1:-1], p, side="right")
    size = edges.size - 1
    count = np.bincount(index, minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_predicted = np.bincount(index, weights=p, minlength=size) / count
        observed_rate = np.bincount(index, weights=y, minlength=size) / count
    return ReliabilityCurve(strategy, edges, count, mean_predicted, observed_rate)


def expected_calibration_error(
    y_true: Any, y_prob: Any, n_bins: int = 10, strategy: Strategy = "uniform"
) -> float:
    """ECE: the mean over bins of ``|observed rate - mean prediction|``, weighted by bin size."""
    return reliability_curve(y_true, y_prob, n_bins, strategy).ece


def maximum_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: Strategy = "uniform") -> float:
    """MCE: the largest ``|observed rate - mean prediction|`` over the non-empty bins."""
    return reliability_curve(y_true, y_prob, n_bins, strategy).mce


def brier_score(y_true: Any, y_prob: Any) -> float:
    """Mean squared difference between predicted probability and outcome (0 is perfect)."""
    y, p = binary_inputs(y_true, y_prob, score_name="y_prob", probabilities=True)
    return float(np.mean((p - y) ** 2))


def calibration_slope_intercept(y_true: Any, y_prob: Any) -> CalibrationFit:
    """Calibration slope and intercept from a logistic regression of ``y`` on ``logit(p)``.

    A perfectly calibrated model has slope 1 and intercept 0 (see :class:`CalibrationFit`).
    """
    y, p = binary_inputs(y_true, y_prob, score_name="y_prob", probabilities=True)
    if y.min() == y.max():
        return CalibrationFit(math.nan, math.nan, math.nan)
    x = safe_logit(p)
    intercept, slope = fit_logistic(x, y.astype(np.float64))
    in_the_large, _ = fit_logistic(x, y.astype(np.float64), fit_slope=False)
    return CalibrationFit(slope=slope, intercept=intercept, calibration_in_the_large=in_the_large)


def calibration_summary(
    y_true: Any, y_prob: Any, n_bins: int = 10, strategy: Strategy = "uniform"
) -> CalibrationSummary:
    """ECE, MCE, Brier score, slope/intercept and the reliability curve in one result."""
    curve = reliability_curve(y_true, y_prob, n_bins, strategy)
    return CalibrationSummary(
        ece=curve.ece,
        mce=curve.mce,
        brier=brier_score(y_true, y_prob),
        fit=calibration_slope_intercept(y_true, y_prob),
        curve=curve,
    )


class _Recalibrator(BaseEstimator, metaclass=ABCMeta):
    """Shared behaviour of the recalibrators: map probabilities to calibrated probabilities."""

    _fitted_attribute: str

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attribute):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(p, y) first")

    def _fit_inputs(self, p: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        labels, probs = binary_inputs(y, p, label_name="y", score_name="p", probabilities=True)
        if labels.min() == labels.max():
            raise InvalidInput(Problem("y", f"{type(self).__name__} needs both outcomes in y, got only {labels[0]}"))
        return probs, labels

    @abstractmethod
    def transform(self, p: Any) -> np.ndarray:
        """Calibrated probabilities of the positive class, one per input probability."""

    def predict_proba(self, p: Any) -> np.ndarray:
        """Calibrated class probabilities, shape ``(n, 2)``: columns are P(y=0) and P(y=1)."""
        calibrated = self.transform(p)
        return np.column_stack([1.0 - calibrated, calibrated])


class PlattRecalibrator(_Recalibrator):
    """Platt scaling: ``p' = expit(intercept_ + coef_ * logit(p))``, fitted by maximum likelihood.

    With ``smooth_targets`` the 0/1 outcomes are replaced by Platt's targets
    ``1 / (n_neg + 2)`` and ``(n_pos + 1) / (n_pos + 2)``, which keeps the fit finite on separable data.
    """

    _fitted_attribute = "coef_"

    def __init__(self, smooth_targets: bool = True):
        self.smooth_targets = smooth_targets

    def fit(self, p: Any, y: Any) -> PlattRecalibrator:
        """Learn ``intercept_`` and ``coef_`` from probabilities ``p`` and outcomes ``y``; return self."""
        probs, labels = self._fit_inputs(p, y)
        target = labels.astype(np.float64)
        if self.smooth_targets:
            n_pos = int(labels.sum())
            n_neg = labels.size - n_pos
            target = np.where(labels == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
        intercept, slope = fit_logistic(safe_logit(probs), target)
        if math.isnan(slope):
            raise InvalidInput(
                Problem("p", "Platt scaling did not converge (outcomes perfectly separated or p constant); "
                        "use smooth_targets=True or IsotonicRecalibrator")
            )
        self.intercept_, self.coef_ = intercept, slope
        return self

    def transform(self, p: Any) -> np.ndarray:
        """Calibrated probabilities of the positive class, one per input probability."""
        self._check_fitted()
        return expit(self.intercept_ + self.coef_ * safe_logit(as_probabilities(p, "p")))


class IsotonicRecalibrator(_Recalibrator):
    """Isotonic regression: the non-decreasing step map from probability to event rate that fits best.

    Inputs outside the fitted range are clipped to it. ``x_thresholds_``/``y_thresholds_`` hold the
    knots of the piecewise-linear map.
    """

    _fitted_attribute = "x_thresholds_"

    def fit(self, p: Any, y: Any) -> IsotonicRecalibrator:
        """Learn the knots ``x_thresholds_`` and ``y_thresholds_`` from probabilities and outcomes; return self."""
        from sklearn.isotonic import IsotonicRegression

        probs, labels = self._fit_inputs(p, y)
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(probs, labels)
        self.x_thresholds_ = model.X_thresholds_
        self.y_thresholds_ = model.y_thresholds_
        return self

    def transform(self, p: Any) -> np.ndarray:
        """Calibrated probabilities of the positive class, one per input probability."""
        self._check_fitted()
        return np.interp(as_probabilities(p, "p"), self.x_thresholds_, self.y_thresholds_)
