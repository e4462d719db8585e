"""Local statistical models from statsforecast (AutoETS, AutoARIMA, SeasonalNaive), one fit per series.

Each series is modelled up to its last report, by default on the log scale (``log1p``) so intervals
stay positive and widen multiplicatively (``transform="none"`` models the raw values, as
statsforecast does by default); quantiles come from the models' central prediction intervals
(the median is the point forecast), mapped back and floored at zero. Gaps inside a series are
bridged by linear interpolation on the log scale for the fit only (statsforecast needs a complete
series); a series with fewer than ``min_history`` reports gets ``NaN``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medai.forecast.panel import Panel
from medai.forecast.quantiles import HUB_LEVELS, monotone

MODELS = ("AutoETS", "AutoARIMA", "SeasonalNaive")
TRANSFORMS = {"log1p": (np.log1p, np.expm1), "none": (lambda x: x, lambda x: x)}


def _statsforecast_model(name: str, season_length: int):
    try:
        from statsforecast import models
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ImportError("statistical forecasts need statsforecast: pip install 'medai[forecast]'") from error
    if name == "AutoETS":
        return models.AutoETS(season_length=season_length)
    if name == "AutoARIMA":
        return models.AutoARIMA(season_length=season_length)
    return models.SeasonalNaive(season_length=season_length)


def _interpolated(series: np.ndarray) -> np.ndarray:
    observed = ~np.isnan(series)
    positions = np.arange(len(series))
    return np.interp(positions, positions[observed], series[observed])


class StatsForecaster:
    """One statsforecast model per series on the log scale (see the module docstring)."""

    def __init__(self, model: str = "AutoETS", season_length: int = 1, levels: Sequence[float] = HUB_LEVELS,
                 history: int | None = None, min_history: int = 8, max_lag: int = 2, transform: str = "log1p"):
        self.model = model
        self.season_length = season_length
        self.levels = levels
        self.history = history
        self.min_history = min_history
        self.max_lag = max_lag
        self.transform = transform

    def fit(self, panel: Panel) -> StatsForecaster:
        """Check the model name and remember the history (each series is fitted when it is forecast)."""
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {self.transform!r}")
        self.panel_ = panel
        return self

    def _intervals(self) -> list[int]:
        return sorted({round(100 * (1 - 2 * level)) for level in self.levels if level < 0.5})

    def predict(self, steps: int) -> np.ndarray:
        """Quantiles ``(series, steps, levels)`` for the ``steps`` periods after the panel's last date."""
        panel = self.panel_
        out = np.full((len(panel.ids), steps, len(self.levels)), np.nan)
        intervals = self._intervals()
        last = panel.last_observed()
        for i, t in enumerate(last):
            lag = panel.n_times - 1 - t
            forward, back = TRANSFORMS[self.transform]
            series = forward(panel.values[i, : t + 1])
            if self.history:
                series = series[-self.history:]
            if t < 0 or lag > self.max_lag or np.count_nonzero(~np.isnan(series)) < self.min_history:
                continue
            first = np.argmax(~np.isnan(series))
            fitted = _statsforecast_model(self.model, self.season_length)
            result = fitted.forecast(y=_interpolated(series[first:]), h=lag + steps, level=intervals)
            columns = []
            for level in self.levels:
                if abs(level - 0.5) < 1e-9:
                    columns.append(result["mean"])
                else:
                    width = round(100 * abs(1 - 2 * level))
                    columns.append(result[f"lo-{width}" if level < 0.5 else f"hi-{width}"])
            out[i] = monotone(back(np.stack(columns, axis=-1)[lag:]))
        return out
