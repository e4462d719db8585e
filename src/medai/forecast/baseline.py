"""The forecast hubs' baseline: a flat median at the last observation, widened by past changes.

Follows the FluSight-baseline (and COVID-19 Forecast Hub baseline) recipe: the median of every
horizon is the most recent observed value; the spread comes from the series' own history of
period-to-period differences, symmetrised (each difference and its negative), and a ``k``-step
forecast adds ``k`` differences drawn from that pool. Quantiles are truncated at zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medai.forecast.panel import Panel
from medai.forecast.quantiles import HUB_LEVELS, monotone


class FlatBaseline:
    """Hub-style baseline forecaster (see the module docstring)."""

    def __init__(self, levels: Sequence[float] = HUB_LEVELS, n_samples: int = 10_000, max_lag: int = 2, seed: int = 0):
        self.levels = levels
        self.n_samples = n_samples
        self.max_lag = max_lag
        self.seed = seed

    def fit(self, panel: Panel) -> FlatBaseline:
        """Remember the history (the baseline has no parameters to learn)."""
        self.panel_ = panel
        return self

    def predict(self, steps: int) -> np.ndarray:
        """Quantiles ``(series, steps, levels)`` for the ``steps`` periods after the panel's last date.

        A series whose last report is more than ``max_lag`` periods old gets ``NaN``.
        """
        panel = self.panel_
        out = np.full((len(panel.ids), steps, len(self.levels)), np.nan)
        last = panel.last_observed()
        rng = np.random.default_rng(self.seed)
        for i, t in enumerate(last):
            lag = panel.n_times - 1 - t
            if t < 0 or lag > self.max_lag:
                continue
            series = panel.values[i, : t + 1]
            differences = np.diff(series)
            differences = differences[~np.isnan(differences)]
            if differences.size == 0:
                differences = np.zeros(1)
            pool = np.concatenate([differences, -differences])
            draws = rng.choice(pool, size=(self.n_samples, lag + steps)).cumsum(axis=1)[:, lag:]
            spread = np.quantile(draws, self.levels, axis=0).T
            spread -= spread[:, [list(self.levels).index(0.5)]]  # symmetric pool: the median stays at the last value
            out[i] = monotone(series[t] + spread)
        return out
