"""Weighted interval score (WIS) and interval coverage of quantile forecasts.

Definitions from Bracher J, Ray EL, Gneiting T, Reich NG, "Evaluating epidemic forecasts in an
interval format", PLoS Comput Biol 17(2):e1008618 (2021), the score the CDC forecast hubs use:

* interval score of the central (1 - alpha) interval [l, u] for an observation y:
  ``IS_alpha = (u - l) + 2/alpha * (l - y) * 1(y < l) + 2/alpha * (y - u) * 1(y > u)``
* weighted interval score over the median m and K central intervals, with weights
  ``w_0 = 1/2`` and ``w_k = alpha_k / 2``:
  ``WIS = 1 / (K + 1/2) * (w_0 * |y - m| + sum_k w_k * IS_alpha_k)``

WIS splits into dispersion (the interval widths), overprediction (y below the forecast) and
underprediction (y above it), as in the paper. A forecast is given as quantiles at levels that
come in pairs ``tau`` and ``1 - tau`` around the median (the hubs' 23 levels are such a set).
Bad input raises :class:`medai.errors.InvalidInput` naming the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from medai.errors import InvalidInput, Problem

_TOLERANCE = 1e-9


@dataclass(frozen=True)
class WisResult:
    """WIS and its three parts, one value per forecast (arrays of the observations' shape)."""

    wis: np.ndarray
    dispersion: np.ndarray
    overprediction: np.ndarray
    underprediction: np.ndarray


def interval_score(lower: ArrayLike, upper: ArrayLike, y: ArrayLike, alpha: float) -> np.ndarray:
    """The interval score of the central ``1 - alpha`` interval ``[lower, upper]`` for observations ``y``."""
    if not 0 < alpha < 1:
        raise InvalidInput(Problem("alpha", f"must be in (0, 1), got {alpha}", "value"))
    lower, upper, y = (np.asarray(a, dtype=float) for a in (lower, upper, y))
    if np.any(lower > upper + _TOLERANCE):
        raise InvalidInput(Problem("lower", "a lower bound is above its upper bound", "value"))
    return (upper - lower) + 2 / alpha * np.clip(lower - y, 0, None) + 2 / alpha * np.clip(y - upper, 0, None)


def _interval_pairs(levels: Sequence[float]) -> tuple[int, list[tuple[int, int, float]]]:
    """The median's index and (lower index, upper index, alpha) of each central interval."""
    levels = [float(level) for level in levels]
    if any(not 0 < level < 1 for level in levels) or len(set(levels)) != len(levels):
        raise InvalidInput(Problem("levels", "quantile levels must be distinct and strictly between 0 and 1", "value"))
    index = {round(level, 9): i for i, level in enumerate(levels)}
    if 0.5 not in index:
        raise InvalidInput(Problem("levels", "the median (level 0.5) is required", "required"))
    pairs = []
    for level, i in sorted(index.items()):
        if level >= 0.5:
            continue
        upper = index.get(round(1 - level, 9))
        if upper is None:
            raise InvalidInput(Problem("levels", f"level {level} has no partner {1 - level:g}: levels must be symmetric", "value"))
        pairs.append((i, upper, 2 * level))
    if len(pairs) * 2 + 1 != len(levels):
        raise InvalidInput(Problem("levels", "every level other than 0.5 needs its partner 1 - level", "value"))
    return index[0.5], pairs


def _checked(quantiles: ArrayLike, levels: Sequence[float], y: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = np.asarray(quantiles, dtype=float)
    y = np.asarray(y, dtype=float)
    order = np.argsort(np.asarray(levels, dtype=float))
    if q.shape[-1:] != (len(levels),):
        raise InvalidInput(Problem("quantiles", f"last axis has {q.shape[-1:]} values, expected one per level ({len(levels)})", "value"))
    if q.shape[:-1] != y.shape:
        raise InvalidInput(Problem("y", f"shape {y.shape} does not match the forecasts' {q.shape[:-1]}", "value"))
    if np.any(np.diff(q[..., order], axis=-1) < -_TOLERANCE * np.maximum(1, np.abs(q[..., order][..., 1:]))):
        raise InvalidInput(Problem("quantiles", "quantiles decrease as the level rises (crossing quantiles)", "value"))
    if np.isnan(q).any() or np.isnan(y).any():
        raise InvalidInput(Problem("quantiles", "missing values (NaN) in the forecasts or observations; drop them first", "value"))
    return q, y, order


def weighted_interval_score(quantiles: ArrayLike, levels: Sequence[float], y: ArrayLike) -> WisResult:
    """WIS of forecasts ``quantiles`` (shape ``(..., len(levels))``) for observations ``y`` (shape ``(...)``)."""
    median_index, pairs = _interval_pairs(levels)
    q, y, _ = _checked(quantiles, levels, y)
    median = q[..., median_index]
    over = 0.5 * np.clip(median - y, 0, None)
    under = 0.5 * np.clip(y - median, 0, None)
    dispersion = np.zeros_like(y)
    for lower_index, upper_index, alpha in pairs:
        lower, upper = q[..., lower_index], q[..., upper_index]
        weight = alpha / 2
        dispersion = dispersion + weight * (upper - lower)
        over = over + weight * 2 / alpha * np.clip(lower - y, 0, None)
        under = under + weight * 2 / alpha * np.clip(y - upper, 0, None)
    scale = 1 / (len(pairs) + 0.5)
    dispersion, over, under = dispersion * scale, over * scale, under * scale
    return WisResult(wis=dispersion + over + under, dispersion=dispersion, overprediction=over, underprediction=under)


def interval_coverage(quantiles: ArrayLike, levels: Sequence[float], y: ArrayLike, coverage: float) -> np.ndarray:
    """Whether each observation lies inside (bounds included) the central ``coverage`` interval of its forecast."""
    _, pairs = _interval_pairs(levels)
    q, y, _ = _checked(quantiles, levels, y)
    match = [(lo, hi) for lo, hi, alpha in pairs if abs((1 - alpha) - coverage) < 1e-9]
    if not match:
        available = ", ".join(f"{1 - alpha:g}" for _, _, alpha in pairs)
        raise InvalidInput(Problem("coverage", f"no central {coverage:g} interval among the levels (available: {available})", "value"))
    lower_index, upper_index = match[0]
    return (q[..., lower_index] <= y) & (y <= q[..., upper_index])

