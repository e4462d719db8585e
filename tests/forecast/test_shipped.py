"""The shipped flu-forecast and census-forecast packages load (hash-checked) and forecast new data with their networks."""

from datetime import date, timedelta

import numpy as np
import pytest

from medai.forecast.census import parse_census_csv
from medai.forecast.predict import CENSUS_MODEL, FLU_MODEL, forecast_census, forecast_flu, load_trained
from medai.models import ModelNotFoundError, default_registry

from .conftest import census_text, flu_rows


def _shipped(name: str):
    try:
        return load_trained(name)
    except ModelNotFoundError:
        pytest.skip(f"the {name} package is not installed")


def test_shipped_flu_package_forecasts_a_new_season():
    model = _shipped(FLU_MODEL)
    assert model.train_end == date(2024, 6, 29) and len(model.ili_weeks) == 1396
    start = date(2024, 9, 7)  # after the training end: the trained networks are used as they are
    rows = flu_rows(weeks=40, start=start)
    forecast = forecast_flu(rows, start + timedelta(weeks=40), model)
    assert forecast.values.shape == (5, 4, 23) and np.isfinite(forecast.values).all()
    assert np.all(np.diff(forecast.values, axis=-1) >= 0)
    card = default_registry().get(FLU_MODEL).card
    relative = next(m for m in card.metrics if m.name == "Relative WIS vs FluSight-baseline")
    assert relative.ci_low <= relative.value <= relative.ci_high and card.plots


def test_shipped_census_package_forecasts_a_hospital():
    model = _shipped(CENSUS_MODEL)
    data = parse_census_csv(census_text(days=60))
    forecast = forecast_census(data, data.panel.end, 14, model)
    assert forecast.values.shape == (2, 14, 23) and np.isfinite(forecast.values).all()
    median = forecast.quantile(0.5)
    assert np.all((median > 10) & (median < 60))  # wards of about 20 and 30 patients stay in a sensible range
