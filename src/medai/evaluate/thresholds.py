"""Choosing an operating threshold; a case is called positive when ``score >= threshold``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from medai.errors import InvalidInput, Problem
from medai.evaluate._checks import as_scores, binary_inputs
from medai.evaluate._json import JsonResult


@dataclass(frozen=True)
class ThresholdCurve(JsonResult):
    """Operating characteristics at each candidate threshold (NaN where a ratio is undefined).

    ``alert_rate`` is the fraction of cases called positive (the alert burden of a warning system).
    """

    threshold: np.ndarray
    sensitivity: np.ndarray
    specificity: np.ndarray
    ppv: np.ndarray
    npv: np.ndarray
    alert_rate: np.ndarray


def threshold_curve(y_true: Any, y_score: Any, thresholds: Any = None) -> ThresholdCurve:
    """Sensitivity, specificity, PPV, NPV and alert rate at each threshold.

    ``thresholds`` defaults to every distinct score, from highest to lowest, so the curve traces the
    whole ROC curve.
    """
    labels, scores = binary_inputs(y_true, y_score)
    candidates = np.unique(scores)[::-1] if thresholds is None else as_scores(thresholds, "thresholds")
    pos_sorted, neg_sorted = np.sort(scores[labels == 1]), np.sort(scores[labels == 0])
    tp = pos_sorted.size - np.searchsorted(pos_sorted, candidates, side="left")
    fp = neg_sorted.size - np.searchsorted(neg_sorted, candidates, side="left")
    fn, tn = pos_sorted.size - tp, neg_sorted.size - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        return ThresholdCurve(
            threshold=candidates,
            sensitivity=tp / pos_sorted.size,
            specificity=tn / neg_sorted.size,
            ppv=tp / (tp + fp),
            npv=tn / (tn + fn),
            alert_rate=(tp + fp) / labels.size,
        )


def threshold_for_sensitivity(y_true: Any, y_score: Any, target: float) -> float:
    """The highest threshold whose sensitivity is at least ``target`` (so specificity is the best it can be)."""
    labels, scores = binary_inputs(y_true, y_score)
    if not 0.0 < target <= 1.0:
        raise InvalidInput(Problem("target", f"must be a sensitivity in (0, 1], got {target!r}"))
    positives = np.sort(scores[labels == 1])[::-1]
    if positives.size == 0:
        raise InvalidInput(Problem("y_true", "holds no positive cases, so sensitivity is undefined"))
    needed = max(1, math.ceil(target * positives.size - 1e-9))
    return float(positives[needed - 1])


def threshold_youden(y_true: Any, y_score: Any) -> float:
    """The threshold maximising Youden's J = sensitivity + specificity - 1 (the highest one on ties)."""
    curve = threshold_curve(y_true, y_score)
    youden = curve.sensitivity + curve.specificity
    if np.isnan(youden).all():
        raise InvalidInput(Problem("y_true", "needs both positive and negative cases"))
    return float(curve.threshold[np.argmax(youden)])


def threshold_maximising(
    y_true: Any,
    y_score: Any,
    objective_fn: Callable[[np.ndarray, np.ndarray], float],
    candidates: Any = None,
    max_candidates: int = 512,
) -> float:
    """The threshold maximising ``objective_fn(y_true, predicted_labels)`` (the highest one on ties).

    ``candidates`` defaults to the distinct scores, or to ``max_candidates`` of their quantiles when
    there are more. Candidates where the objective is NaN are skipped.
    """
    labels, scores = binary_inputs(y_true, y_score)
    if candidates is None:
        distinct = np.unique(scores)
        if distinct.size > max_candidates:
            distinct = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, max_candidates), method="inverted_cdf"))
        candidates = distinct[::-1]
    else:
        candidates = np.sort(as_scores(candidates, "candidates"))[::-1]
    values = np.array([float(objective_fn(labels, (scores >= t).astype(np.int8))) for t in candidates])
    if np.all(np.isnan(values)):
        raise InvalidInput(Problem("objective_fn", "returned NaN at every candidate threshold"))
    return float(candidates[np.nanargmax(values)])
