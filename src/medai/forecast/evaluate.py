"""Rolling-origin backtests and their scores: WIS, relative WIS and interval coverage, model beside model.

Every origin is forecast from the data as known then (flu: the vintage published by the reference
date; census: the days up to the origin), and the networks are retrained on that data alone, so a
backtest never sees the future. Scores compare models on the same forecasts only: the series,
horizon and origin triples that every model forecast and whose truth is known. 95% intervals come
from a bootstrap over origins (whole weeks or days resampled together, since locations move together).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from medai.evaluate.wis import interval_coverage, weighted_interval_score
from medai.forecast.model import EnsembleForecaster
from medai.forecast.panel import Panel
from medai.forecast.quantiles import QuantileForecast

Forecasts = Mapping[date, QuantileForecast]


@dataclass(frozen=True)
class ScoreRow:
    """One model's scores over the common forecasts, with bootstrap 95% intervals ``(low, high)``."""

    model: str
    n: int
    wis: float
    relative_wis: float
    coverage_50: float
    coverage_95: float
    wis_by_horizon: dict[int, float]
    relative_wis_ci: tuple[float, float]
    coverage_95_ci: tuple[float, float]

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {"model": self.model, "n": self.n, "wis": self.wis, "relative_wis": self.relative_wis,
                "relative_wis_ci": list(self.relative_wis_ci), "coverage_50": self.coverage_50,
                "coverage_95": self.coverage_95, "coverage_95_ci": list(self.coverage_95_ci),
                "wis_by_horizon": {str(h): v for h, v in self.wis_by_horizon.items()}}


def _aligned(forecast: QuantileForecast, ids: Sequence[str]) -> np.ndarray:
    out = np.full((len(ids), len(forecast.horizons), len(forecast.levels)), np.nan)
    position = {series: i for i, series in enumerate(forecast.ids)}
    for k, series in enumerate(ids):
        if series in position:
            out[k] = forecast.values[position[series]]
    return out


def _truth(truth: Panel, ids: Sequence[str], forecast: QuantileForecast) -> np.ndarray:
    out = np.full((len(ids), len(forecast.horizons)), np.nan)
    for k, series in enumerate(ids):
        if series in truth.ids:
            for h, horizon in enumerate(forecast.horizons):
                value = truth.value_on(series, forecast.target_date(horizon))
                out[k, h] = np.nan if value is None else value
    return out


def score_models(models: Mapping[str, Forecasts], truth: Panel, anchor: str, horizons: Sequence[int] | None = None,
                 n_boot: int = 1000, seed: int = 0, series: Callable[[str], bool] | None = None) -> list[ScoreRow]:
    """Scores of every model on the forecasts all of them made (of the ``horizons`` and the ``series`` kept, when
    given); relative WIS is against ``anchor``."""
    origins = sorted(set.intersection(*(set(forecasts) for forecasts in models.values())))
    if not origins:
        raise ValueError("the models share no forecast origin")
    ids = sorted({s for forecasts in models.values() for f in forecasts.values() for s in f.ids if series is None or series(s)})
    levels = models[anchor][origins[0]].levels
    # per origin and model: summed WIS, counts covered by the 50% and 95% intervals; per horizon: summed WIS
    wis_sum = {name: np.zeros(len(origins)) for name in models}
    cover = {name: np.zeros((len(origins), 2)) for name in models}
    by_horizon: dict[str, dict[int, list[float]]] = {name: {} for name in models}
    counts = np.zeros(len(origins))
    for k, origin in enumerate(origins):
        sample = models[anchor][origin]
        y = _truth(truth, ids, sample)
        stacked = {name: _aligned(models[name][origin], ids) for name in models}
        usable = ~np.isnan(y)
        for values in stacked.values():
            usable &= ~np.isnan(values).any(axis=-1)
        if horizons is not None:
            usable &= np.isin(np.asarray(sample.horizons), horizons)[None, :]
        which = np.broadcast_to(np.asarray(sample.horizons), y.shape)[usable]
        counts[k] = usable.sum()
        for name, values in stacked.items():
            q = values[usable]
            score = weighted_interval_score(q, levels, y[usable]).wis
            wis_sum[name][k] = score.sum()
            cover[name][k] = [interval_coverage(q, levels, y[usable], c).sum() for c in (0.5, 0.95)]
            for h in np.unique(which):
                by_horizon[name].setdefault(int(h), []).extend(score[which == h].tolist())
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(origins), size=(n_boot, len(origins)))
    rows = []
    for name in models:
        relative = wis_sum[name][draws].sum(axis=1) / wis_sum[anchor][draws].sum(axis=1)
        coverage_95 = cover[name][draws, 1].sum(axis=1) / counts[draws].sum(axis=1)
        n = counts.sum()
        rows.append(ScoreRow(name, int(n), float(wis_sum[name].sum() / n), float(wis_sum[name].sum() / wis_sum[anchor].sum()),
                             float(cover[name][:, 0].sum() / n), float(cover[name][:, 1].sum() / n),
                             {h: float(np.mean(v)) for h, v in sorted(by_horizon[name].items())},
                             _interval(relative), _interval(coverage_95)))
    return rows


def _interval(values: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def backtest(origins: Sequence[date], panel_at: Callable[[date], Panel], forecaster: Callable[[], EnsembleForecaster],
             auxiliary_at: Callable[[date], dict] | None = None, refit_every: int = 1,
             log: Callable[[str], None] = lambda _: None) -> dict[str, dict[date, QuantileForecast]]:
    """Forecast every origin with the data known then; returns {ensemble or member name: {origin: forecast}}.

    Networks are retrained every ``refit_every`` origins on the data of that origin (in between, the
    trained networks forecast from the newer data; local members always refit).
    """
    out: dict[str, dict[date, QuantileForecast]] = {}
    model = None
    for k, origin in enumerate(origins):
        panel = panel_at(origin)
        if model is None or k % refit_every == 0:
            model = forecaster().fit(panel, auxiliary_at(origin) if auxiliary_at else None)
        else:
            model.use_panel(panel)
        combined = model.predict(origin)
        out.setdefault(combined.model, {})[origin] = combined
        for name, values in model.member_forecasts(origin).items():
            out.setdefault(name, {})[origin] = QuantileForecast(name, panel.ids, origin, combined.step_days, combined.horizons,
                                                                combined.levels, values)
        log(f"{origin}: {len(combined.ids)} series forecast")
    return out


def weekly_origins(first: date, last: date) -> list[date]:
    """Every 7th day from ``first`` to ``last``."""
    return [first + timedelta(days=7 * k) for k in range((last - first).days // 7 + 1)]
