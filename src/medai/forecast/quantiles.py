"""Quantile forecasts: the one output type of every forecaster (outbreaks and census alike)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# The 23 quantile levels of the CDC forecast hubs (FluSight, COVID-19 Forecast Hub).
HUB_LEVELS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
                                 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99)


@dataclass(frozen=True)
class QuantileForecast:
    """``values[i, h, q]``: quantile ``levels[q]`` of series ``ids[i]`` on ``reference_date + horizons[h] * step``."""

    model: str
    ids: tuple[str, ...]
    reference_date: date
    step_days: int
    horizons: tuple[int, ...]
    levels: tuple[float, ...]
    values: np.ndarray

    def target_date(self, horizon: int) -> date:
        """The date a horizon forecasts."""
        return self.reference_date + timedelta(days=self.step_days * horizon)

    def level_index(self, level: float) -> int:
        """Position of a quantile level."""
        return int(np.argmin(np.abs(np.asarray(self.levels) - level)))

    def quantile(self, level: float) -> np.ndarray:
        """One quantile for every series and horizon, shape ``(series, horizons)``."""
        return self.values[:, :, self.level_index(level)]


def monotone(values: np.ndarray) -> np.ndarray:
    """Quantiles made non-decreasing along the last axis (sorted) and non-negative (counts)."""
    return np.maximum(np.sort(values, axis=-1), 0.0)


def combine(members: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Quantile averaging (Vincentisation): the weighted mean of the members' quantiles, level by level.

    A member with ``NaN`` for a series (it could not forecast it) is left out for that series.
    """
    stack = np.stack(members)
    w = np.ones(len(members)) if weights is None else np.asarray(weights, dtype=float)
    w = np.broadcast_to(w.reshape(-1, *([1] * (stack.ndim - 1))), stack.shape)
    present = ~np.isnan(stack)
    total = np.where(present, w, 0).sum(axis=0)
    mean = np.where(present, stack * w, 0).sum(axis=0) / np.where(total > 0, total, 1)
    return np.where(total > 0, mean, np.nan)
