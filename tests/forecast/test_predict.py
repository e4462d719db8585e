"""Flu forecasts end to end: hub layout, as-of handling (no data after the as-of date is ever used), packages."""

import csv
import io
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from medai.datasets.flusight import WeeklyCount, parse_hub_csv
from medai.errors import InvalidInput
from medai.forecast.hub import COLUMNS, from_hub_rows, hub_csv
from medai.forecast.predict import dropped_locations, forecast_flu, load_trained
from medai.forecast.quantiles import HUB_LEVELS
from medai.models import ModelCard, ModelRegistry, save_package

from .conftest import START, flu_rows


def test_forecast_is_in_the_hub_layout(flu_model):
    rows = flu_rows()
    as_of = START + timedelta(weeks=110)  # the Saturday after the last week: horizon 0 is one week past the data
    forecast = forecast_flu(rows, as_of, flu_model)
    assert forecast.reference_date == as_of and forecast.horizons == (0, 1, 2, 3)
    text = hub_csv(forecast)
    table = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table[0]) == COLUMNS and len(table) == 5 * 4 * 23
    first = table[0]
    assert first["target"] == "wk inc flu hosp" and first["output_type"] == "quantile" and first["reference_date"] == as_of.isoformat()
    assert {r["target_end_date"] for r in table} == {(as_of + timedelta(weeks=h)).isoformat() for h in range(4)}
    assert {r["location"] for r in table} == {"US", "01", "06", "36", "48"}
    read_back = from_hub_rows(parse_hub_csv(text), as_of, "ours", locations=list(forecast.ids))
    assert np.allclose(read_back.values, forecast.values, atol=0.006)
    assert np.all(np.diff(forecast.values, axis=-1) >= 0) and np.all(forecast.values >= 0)


def test_rows_after_the_as_of_date_change_nothing(flu_model):
    rows = flu_rows()
    as_of = START + timedelta(weeks=100, days=3)  # a Wednesday: rows to the Saturday before count, later ones not
    altered = [replace(r, value=r.value * 50 + 1000) if r.date > as_of else r for r in rows]
    assert np.array_equal(forecast_flu(rows, as_of, flu_model).values, forecast_flu(altered, as_of, flu_model).values)


def test_a_backtest_date_retrains_on_the_data_known_then(flu_model):
    rows = flu_rows()
    as_of = START + timedelta(weeks=80)  # before the model's training end: the networks are retrained
    altered = [replace(r, value=r.value * 50) if r.date > as_of else r for r in rows]
    a = forecast_flu(rows, as_of, flu_model)
    b = forecast_flu(altered, as_of, flu_model)
    assert np.array_equal(a.values, b.values)


def test_stale_locations_are_left_out_and_reported(flu_model):
    rows = flu_rows()
    last = START + timedelta(weeks=109)
    thinned = [r for r in rows if not (r.location == "01" and r.date > last - timedelta(weeks=3))]
    forecast = forecast_flu(thinned, last + timedelta(weeks=1), flu_model)
    assert "01" not in forecast.ids and dropped_locations(thinned, forecast) == ["01"]


def test_bad_input_is_refused(flu_model):
    rows = flu_rows()
    with pytest.raises(InvalidInput, match="duplicated date"):
        forecast_flu(rows + [rows[0]], START + timedelta(weeks=110), flu_model)
    with pytest.raises(InvalidInput, match="weeks after the last week"):
        forecast_flu(rows, START + timedelta(weeks=115), flu_model)
    with pytest.raises(InvalidInput, match="unknown location"):
        forecast_flu(rows + [WeeklyCount(START, "XX", 3.0)], START + timedelta(weeks=110), flu_model)


def _card(name: str) -> ModelCard:
    source = {"name": "synthetic", "citation": "made up for a test", "licence": "CC0", "n": 1}
    return ModelCard.model_validate({
        "name": name, "version": "0.0.1", "task": "t", "summary": "s", "intended_use": "tests", "out_of_scope_use": [],
        "training_data": [source], "evaluation_data": [source],
        "metrics": [{"name": "Relative WIS", "value": 0.9, "ci_low": 0.8, "ci_high": 1.0, "dataset": "synthetic", "split": "all"}],
        "limitations": ["synthetic"], "ethical_considerations": "none", "authors": ["tests"], "licence": "Apache-2.0",
        "created": "2026-01-01T00:00:00Z", "medai_version": "0"})


def test_package_round_trip_gives_the_same_forecast(flu_model, tmp_path):
    import json

    from medai.forecast.auxiliary import to_json

    files = flu_model.forecaster.save_weights(tmp_path / "work")
    files["training.json"] = json.dumps({"train_end": flu_model.train_end.isoformat()}).encode()
    files["ili.json"] = json.dumps(to_json(flu_model.ili_weeks)).encode()
    save_package(tmp_path / "models" / "flu-forecast-0.0.1", _card("flu-forecast"), files)
    loaded = load_trained("flu-forecast", ModelRegistry([tmp_path / "models"], shipped=False))
    assert loaded.train_end == flu_model.train_end and loaded.identity.model_version == "0.0.1"
    as_of = START + timedelta(weeks=110)
    assert np.allclose(forecast_flu(flu_rows(), as_of, loaded).values, forecast_flu(flu_rows(), as_of, flu_model).values)


def test_hub_levels_are_the_23_hub_quantiles():
    assert len(HUB_LEVELS) == 23 and HUB_LEVELS[0] == 0.01 and HUB_LEVELS[-1] == 0.99 and 0.5 in HUB_LEVELS
