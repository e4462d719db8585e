"""The two backtests behind the model cards and ``benchmarks/forecast.py``, on the shared public data.

* Flu: every reference date of the 2023-24 FluSight season (2023-10-14 to 2024-05-04), each
  forecast from the weekly vintage published by then, scored against the latest target data beside
  the hub's FluSight-ensemble and FluSight-baseline.
* Census: weekly origins 2020-11-01 to 2021-06-13 on the HHS state series (inpatient beds in use,
  adult COVID-19 ICU patients), days before 2020-08-01 left out (HHS Protect reporting began in
  July 2020; earlier days come from fewer hospitals), networks retrained every 4 origins.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from medai.datasets import flusight, hhs_capacity, ilinet
from medai.forecast.auxiliary import KINDS, ili_panels
from medai.forecast.census import census_from_hhs
from medai.forecast.evaluate import backtest, weekly_origins
from medai.forecast.hub import from_hub_rows
from medai.forecast.model import EnsembleForecaster
from medai.forecast.panel import Panel
from medai.forecast.quantiles import QuantileForecast
from medai.forecast.recipes import census_ensemble, flu_ensemble
from medai.forecast.task import Vintages, flu_panel, location_codes

FLU_SEASON = (date(2023, 10, 14), date(2024, 5, 4))
HUB_MODELS = ("FluSight-ensemble", "FluSight-baseline")
CENSUS_START = date(2020, 8, 1)
CENSUS_ORIGINS = (date(2020, 11, 1), date(2021, 6, 13))
CENSUS_REFIT_EVERY = 4


@dataclass(frozen=True)
class Backtest:
    """Forecasts per model and origin, and the truth they are scored against."""

    forecasts: dict[str, dict[date, QuantileForecast]]
    truth: Panel


def cached(path: Path | None, compute: Callable[[], Backtest]) -> Backtest:
    """``compute()``, or its result stored in ``path`` by an earlier call (a local pickle: never ship or share it)."""
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())
    result = compute()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(result))
    return result


def flu_backtest(root: str | Path | None = None, recipe: Callable[[], EnsembleForecaster] = flu_ensemble,
                 log: Callable[[str], None] = lambda _: None) -> Backtest:
    """Our ensemble and its members on every 2023-24 reference date, beside the hub's ensemble and baseline."""
    vintages = Vintages(flusight.load_vintages(root))
    weeks = ilinet.load(root)
    references = weekly_origins(*FLU_SEASON)
    forecasts = backtest(references, vintages.panel, recipe,
                         lambda reference: {kind: ili_panels(weeks, reference, kind) for kind in KINDS}, log=log)
    for hub in HUB_MODELS:
        rows = flusight.load_hub_forecasts(hub, root)
        forecasts[hub] = {r: from_hub_rows(rows, r, hub, locations=location_codes()) for r in references}
    return Backtest(forecasts, flu_panel(flusight.load(root)))


def census_panel(root: str | Path | None = None) -> Panel:
    """The HHS state census series from ``CENSUS_START``."""
    return census_from_hhs(hhs_capacity.load(root)).panel.since(CENSUS_START)


def census_backtest(root: str | Path | None = None, recipe: Callable[[], EnsembleForecaster] = census_ensemble,
                    log: Callable[[str], None] = lambda _: None) -> Backtest:
    """Our census ensemble and its members (network, seasonal naive, AutoETS) at weekly origins."""
    panel = census_panel(root)
    forecasts = backtest(weekly_origins(*CENSUS_ORIGINS), panel.until, recipe, refit_every=CENSUS_REFIT_EVERY, log=log)
    return Backtest(forecasts, panel)
