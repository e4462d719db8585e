"""Backtest scoring: relative WIS on the common forecasts only, and origins forecast from data known then."""

from datetime import date, timedelta

import numpy as np
import pytest

from medai.forecast.evaluate import backtest, score_models, weekly_origins
from medai.forecast.model import EnsembleForecaster, MemberSpec
from medai.forecast.panel import build_panel
from medai.forecast.quantiles import HUB_LEVELS, QuantileForecast

DAY = date(2024, 1, 6)


def _flat(name: str, ids, values, horizons=(1,)) -> QuantileForecast:
    array = np.array(values, dtype=float)[:, None, None] * np.ones((1, len(horizons), len(HUB_LEVELS)))
    return QuantileForecast(name, tuple(ids), DAY, 7, horizons, HUB_LEVELS, array)


def test_relative_wis_is_the_ratio_of_mean_wis_on_common_forecasts():
    truth = build_panel([("a", DAY + timedelta(days=7), 10.0), ("b", DAY + timedelta(days=7), 20.0)], 7)
    # point forecasts: WIS is the absolute error. "good" is off by 1 and 2, the anchor by 4 and 4; "partial" skips b.
    models = {"good": {DAY: _flat("good", "ab", [11, 18])}, "anchor": {DAY: _flat("anchor", "ab", [14, 24])},
              "partial": {DAY: _flat("partial", "a", [10])}}
    rows = {r.model: r for r in score_models(models, truth, "anchor", n_boot=50)}
    assert rows["good"].n == 1  # only a: the one forecast every model made
    assert rows["good"].wis == pytest.approx(1.0) and rows["anchor"].wis == pytest.approx(4.0)
    assert rows["good"].relative_wis == pytest.approx(0.25) and rows["anchor"].relative_wis == 1.0
    assert rows["partial"].coverage_95 == 1.0 and rows["good"].coverage_95 == 0.0
    both = {r.model: r for r in score_models({k: models[k] for k in ("good", "anchor")}, truth, "anchor", n_boot=50)}
    assert both["good"].n == 2 and both["good"].relative_wis == pytest.approx(3 / 8)


def test_each_origin_is_forecast_from_the_data_known_then():
    start = date(2023, 1, 7)
    records = [("s", start + timedelta(weeks=k), float(10 + k)) for k in range(30)]
    full = build_panel(records, 7)
    asked = []

    def panel_at(origin):
        asked.append(origin)
        return full.until(origin - timedelta(days=7))

    def recipe():
        return EnsembleForecaster("flat", [MemberSpec("baseline", "baseline", {"n_samples": 200})], (0, 1), 7)

    origins = weekly_origins(start + timedelta(weeks=10), start + timedelta(weeks=12))
    out = backtest(origins, panel_at, recipe)
    assert asked == origins and set(out) == {"flat", "baseline"}
    for origin in origins:
        known = full.until(origin - timedelta(days=7)).values[0, -1]
        assert np.allclose(out["flat"][origin].quantile(0.5), known)  # the last value known then, not later ones
