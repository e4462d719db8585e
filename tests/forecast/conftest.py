"""Small synthetic data and tiny trained models for the forecast tests (no real data, a few seconds of training)."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import numpy as np
import pytest

from medai.core.prediction import ModelIdentity
from medai.datasets.flusight import WeeklyCount
from medai.datasets.ilinet import AGE_BANDS, IliWeek
from medai.forecast.model import EnsembleForecaster, MemberSpec
from medai.forecast.predict import TrainedForecaster
from medai.forecast.task import HORIZONS, flu_panel

STATES = ("01", "06", "36", "48")
START = date(2022, 2, 5)  # a Saturday
TINY_NETWORK = {"window": 4, "steps": 5, "hidden": 16, "epochs": 20, "n_seeds": 1, "batch_size": 64}
IDENTITY = ModelIdentity(model_id="flu-forecast", model_version="0.0.0-test", weights_sha256="ab" * 32)


def season_curve(weeks: int, peaks: tuple[int, ...] = (45, 97), width: float = 5.0) -> np.ndarray:
    """Epidemic waves (Gaussian bumps) on a small floor."""
    t = np.arange(weeks)
    return 0.02 + sum(np.exp(-0.5 * ((t - p) / width) ** 2) for p in peaks)


def flu_rows(weeks: int = 110, seed: int = 0, start: date = START) -> list[WeeklyCount]:
    """Weekly counts for four states and the US (their sum), Poisson around seasonal waves."""
    rng = np.random.default_rng(seed)
    curve = season_curve(weeks)
    values = {code: rng.poisson(scale * 400 * curve) for code, scale in zip(STATES, (0.5, 3.0, 2.0, 2.5))}
    values["US"] = sum(values.values())
    return [WeeklyCount(start + timedelta(weeks=k), code, float(series[k])) for code, series in values.items()
            for k in range(weeks)]


def ili_weeks(weeks: int = 400) -> list[IliWeek]:
    """Synthetic national ILI seasons (a wave every 52 weeks)."""
    first = START - timedelta(weeks=weeks - 110)
    curve = 1.0 + 5 * season_curve(weeks, peaks=tuple(range(20, weeks, 52)), width=4.0)
    return [IliWeek(2000 + k // 52, k % 52 + 1, first + timedelta(weeks=k), float(curve[k]), 100_000,
                    {band: float(curve[k]) * share for band, share in zip(AGE_BANDS, (1.5, 1.2, 0.5))}) for k in range(weeks)]


def tiny_flu_forecaster() -> EnsembleForecaster:
    """A fast flu ensemble: one tiny network learning from ILI, the baseline beside it with weight 0."""
    return EnsembleForecaster("flu-ensemble", [MemberSpec("network-ili", "network", TINY_NETWORK, 1.0, "ili"),
                                               MemberSpec("baseline", "baseline", {"n_samples": 500}, 0.0)],
                              HORIZONS, 7, combination="mean", max_lag=2, total="US")


@functools.lru_cache(maxsize=1)
def trained_flu_model() -> TrainedForecaster:
    """The tiny flu ensemble trained on 110 synthetic weeks (to 2024-02-24) and synthetic ILI (cached)."""
    rows = flu_rows()
    panel = flu_panel(rows)
    model = TrainedForecaster(tiny_flu_forecaster(), panel.end, IDENTITY, ili_weeks())
    model.forecaster.fit(panel, model.auxiliary_panels(panel.end))
    return model


@pytest.fixture
def flu_model() -> TrainedForecaster:
    """:func:`trained_flu_model`."""
    return trained_flu_model()

DAY0 = date(2024, 1, 1)


def census_text(days: int = 90, wards=("Ward A", "Ward B"), seed: int = 0) -> str:
    """Daily census of two wards with a weekday pattern (lower at weekends), capacity and admissions."""
    rng = np.random.default_rng(seed)
    lines = ["date,location,unit,census,capacity,admissions"]
    for w, ward in enumerate(wards):
        for d in range(days):
            day = DAY0 + timedelta(days=d)
            level = (20 + 10 * w) * (0.9 if day.weekday() >= 5 else 1.0) + rng.normal(0, 1)
            lines.append(f"{day},{ward},{'icu' if w else 'inpatient'},{max(round(level), 0)},{24 + 10 * w},{rng.poisson(5)}")
    return "\n".join(lines) + "\n"


def census_model_for(data) -> TrainedForecaster:
    """A tiny census network (scaled, day-of-week features) trained on ``data``."""
    network = {"window": 14, "steps": 14, "calendar": "weekday", "anchor": 7, "scaled": True, "period": 7, "hidden": 16,
               "epochs": 15, "n_seeds": 1, "batch_size": 64}
    forecaster = EnsembleForecaster("census-ensemble", [MemberSpec("network", "network", network)], tuple(range(1, 15)), 1)
    forecaster.fit(data.panel)
    return TrainedForecaster(forecaster, data.panel.end, IDENTITY.model_copy(update={"model_id": "census-forecast"}))
