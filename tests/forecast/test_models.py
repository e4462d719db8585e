"""The forecasters: hub-style baseline, statsforecast models, the global network and the ensemble."""

from datetime import timedelta

import numpy as np
import pytest

from medai.forecast.baseline import FlatBaseline
from medai.forecast.model import EnsembleForecaster, MemberSpec
from medai.forecast.network import GlobalQuantileNet
from medai.forecast.panel import Panel, build_panel
from medai.forecast.quantiles import HUB_LEVELS, combine
from medai.forecast.statistical import StatsForecaster
from medai.forecast.task import HORIZONS, flu_panel

from .conftest import START, TINY_NETWORK, flu_rows

MEDIAN = HUB_LEVELS.index(0.5)


def _growing_panel(weeks: int = 60, series: int = 6) -> Panel:
    """Series doubling every ~5 weeks from different sizes (log-linear growth, mild noise)."""
    rng = np.random.default_rng(3)
    records = []
    for s in range(series):
        for k in range(weeks):
            value = (10 + 30 * s) * np.exp(0.14 * k) * np.exp(rng.normal(0, 0.03))
            records.append((f"s{s}", START + timedelta(weeks=k), float(value)))
    return build_panel(records, 7)


def test_baseline_is_flat_at_the_last_value_and_widens_with_the_horizon():
    panel = flu_panel(flu_rows(weeks=60))
    q = FlatBaseline(n_samples=4000).fit(panel).predict(4)
    last = panel.values[:, -1]
    assert np.allclose(q[:, :, MEDIAN], last[:, None])
    width = q[:, :, HUB_LEVELS.index(0.975)] - q[:, :, HUB_LEVELS.index(0.025)]
    assert np.all(np.diff(width, axis=1) >= -1e-9) and np.all(width[:, -1] > width[:, 0])
    assert np.all(q >= 0) and np.all(np.diff(q, axis=-1) >= 0)


def test_stale_series_are_not_forecast():
    panel = _growing_panel()
    values = panel.values.copy()
    values[0, -3:] = np.nan  # three periods without a report: over max_lag = 2
    stale = Panel(panel.ids, panel.start, 7, values)
    for model in (FlatBaseline(n_samples=200), StatsForecaster("AutoETS")):
        q = model.fit(stale).predict(3)
        assert np.isnan(q[0]).all() and not np.isnan(q[1:]).any()


def test_autoets_on_the_log_scale_follows_growth_with_ordered_quantiles():
    panel = _growing_panel()
    q = StatsForecaster("AutoETS").fit(panel).predict(4)
    assert np.all(np.diff(q, axis=-1) >= 0)
    assert np.all(q[:, 3, MEDIAN] > panel.values[:, -1] * 1.3)  # still growing four weeks on


def test_statistical_models_refuse_unknown_names():
    with pytest.raises(ValueError, match="model must be one of"):
        StatsForecaster("Prophet").fit(_growing_panel())


def test_global_network_learns_growth_and_round_trips_its_weights():
    panel = _growing_panel()
    net = GlobalQuantileNet(window=6, steps=5, hidden=16, epochs=40, n_seeds=1, calendar="none", batch_size=64).fit(panel)
    q = net.predict(4)
    assert q.shape == (6, 4, 23) and np.all(np.diff(q, axis=-1) >= 0)
    assert np.mean(q[:, 3, MEDIAN] / panel.values[:, -1]) > 1.2  # grows, as every training window did
    restored = GlobalQuantileNet(window=6, steps=5, hidden=16, n_seeds=1, calendar="none").load_state_dict(net.state_dict(), net.n_inputs)
    assert np.allclose(restored.use_panel(panel).predict(4), q)


def test_network_forecasts_from_each_series_own_last_report():
    panel = _growing_panel()
    values = panel.values.copy()
    values[2, -1] = np.nan  # one week late
    net = GlobalQuantileNet(window=6, steps=5, hidden=8, epochs=2, n_seeds=1, calendar="none").fit(Panel(panel.ids, panel.start, 7, values))
    q = net.predict(4)
    assert not np.isnan(q).any()
    with pytest.raises(ValueError, match="too little history"):
        GlobalQuantileNet(window=6).fit(Panel(panel.ids, panel.start, 7, values[:, :6]))


def test_quantile_averaging_skips_members_that_could_not_forecast():
    a, b = np.full((2, 1, 3), 10.0), np.full((2, 1, 3), 20.0)
    b[1] = np.nan
    out = combine([a, b], [1.0, 3.0])
    assert out[0, 0, 0] == pytest.approx(17.5) and out[1, 0, 0] == pytest.approx(10.0)


def _ensemble(members, total=None) -> EnsembleForecaster:
    return EnsembleForecaster("test", members, HORIZONS, 7, combination="mean", total=total)


def test_ensemble_maps_horizons_onto_steps_and_keeps_observed_weeks():
    panel = flu_panel(flu_rows(weeks=60))
    model = _ensemble([MemberSpec("baseline", "baseline", {"n_samples": 300})]).fit(panel)
    assert model.steps_for(panel.end + timedelta(weeks=1)) == [1, 2, 3, 4]
    same_week = model.predict(panel.end)  # the reference week is in the data: horizon 0 is what was observed
    assert np.allclose(same_week.values[:, 0, :], panel.values[:, -1][:, None])
    with pytest.raises(Exception, match="grid"):
        model.predict(panel.end + timedelta(days=3))


def test_weight_zero_members_are_fitted_but_not_combined():
    panel = flu_panel(flu_rows(weeks=60))
    members = [MemberSpec("baseline", "baseline", {"n_samples": 300}), MemberSpec("ets", "stats", {"model": "AutoETS"}, 0.0)]
    model = _ensemble(members).fit(panel)
    reference = panel.end + timedelta(weeks=1)
    parts = model.member_forecasts(reference)
    combined = model.predict(reference)
    assert set(parts) == {"baseline", "ets"}
    assert np.allclose(combined.values, parts["baseline"])


def test_total_is_made_coherent_with_its_parts():
    panel = flu_panel(flu_rows(weeks=60))
    model = _ensemble([MemberSpec("net", "network", TINY_NETWORK)], total="US").fit(panel)
    forecast = model.predict(panel.end + timedelta(weeks=1))
    median = forecast.quantile(0.5)
    us = forecast.ids.index("US")
    parts = [i for i in range(len(forecast.ids)) if i != us]
    assert np.allclose(median[us], median[parts].sum(axis=0), rtol=1e-6)


def test_ensemble_round_trips_through_its_saved_weights(tmp_path):
    panel = flu_panel(flu_rows(weeks=60))
    model = _ensemble([MemberSpec("net", "network", TINY_NETWORK), MemberSpec("baseline", "baseline", {"n_samples": 300}, 0.0)]).fit(panel)
    reference = panel.end + timedelta(weeks=1)
    files = model.save_weights(tmp_path)
    assert set(files) == {"config.json", "net.safetensors"}
    restored = EnsembleForecaster.load_weights(tmp_path).use_panel(panel)
    assert np.allclose(restored.predict(reference).values, model.predict(reference).values)


def test_spread_widens_intervals_around_an_unchanged_median():
    panel = flu_panel(flu_rows(weeks=60))
    reference = panel.end + timedelta(weeks=1)
    members = [MemberSpec("baseline", "baseline", {"n_samples": 300})]
    plain = EnsembleForecaster("t", members, HORIZONS, 7).fit(panel).predict(reference)
    wide = EnsembleForecaster("t", members, HORIZONS, 7, spread=1.5).fit(panel).predict(reference)
    assert np.allclose(wide.quantile(0.5), plain.quantile(0.5))
    z_plain, z_wide = np.log1p(plain.values), np.log1p(wide.values)
    positive = wide.values > 0  # below zero the quantiles are floored at 0
    assert positive.mean() > 0.5
    assert np.allclose((z_wide - z_wide[..., [MEDIAN]])[positive], 1.5 * (z_plain - z_plain[..., [MEDIAN]])[positive])
