"""Forecasts behind the CLI, the API and the refresh job: flu admissions (hub format) and hospital census.

Both models ship as packages (``flu-forecast``, ``census-forecast``): the ensemble's configuration,
the trained networks and, for flu, the national ILI history the network learns epidemic shapes
from. A forecast as of a date on or after the package's training end uses the trained networks;
an earlier as-of date (a backtest) retrains on the data known then, so no forecast ever uses data
dated after its as-of date. ``refit=True`` always retrains.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from medai.core.prediction import ModelIdentity
from medai.datasets.flusight import WeeklyCount
from medai.datasets.ilinet import IliWeek
from medai.forecast.auxiliary import from_json, ili_panels
from medai.errors import InvalidInput, Problem
from medai.forecast.census import CensusData
from medai.forecast.model import EnsembleForecaster
from medai.forecast.panel import Panel
from medai.forecast.quantiles import QuantileForecast
from medai.forecast.task import check_as_of, flu_panel, reference_date_for

FLU_MODEL = "flu-forecast"
CENSUS_MODEL = "census-forecast"
ILI_FILE = "ili.json"
TRAINING_FILE = "training.json"
MAX_CENSUS_LAG_DAYS = 2


@dataclass
class TrainedForecaster:
    """A loaded forecast package: the fitted ensemble, its training end, its identity and the ILINet weeks
    its networks learn from (empty for census)."""

    forecaster: EnsembleForecaster
    train_end: date
    identity: ModelIdentity
    ili_weeks: list[IliWeek] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def auxiliary_panels(self, as_of: date) -> dict[str, list[Panel]]:
        """Each auxiliary kind the members use, as published by ``as_of``."""
        kinds = {spec.auxiliary for spec in self.forecaster.members}
        return {kind: ili_panels(self.ili_weeks, as_of, kind) for kind in kinds}

    def forecast(self, panel: Panel, as_of: date, reference_date: date, refit: bool | None) -> QuantileForecast:
        """Forecast ``reference_date`` from ``panel`` with a fresh ensemble trained on it when ``refit`` is true, or
        when ``refit`` is None and ``as_of`` is before the training end; else with the trained networks (one call
        at a time: they are shared)."""
        if refit or (refit is None and as_of < self.train_end):
            fresh = EnsembleForecaster.from_config(self.forecaster.config()).fit(panel, self.auxiliary_panels(as_of))
            return fresh.predict(reference_date)
        with self.lock:
            return self.forecaster.use_panel(panel).predict(reference_date)


def load_trained(name: str, registry=None) -> TrainedForecaster:
    """The installed package ``name`` (hash-checked) as a :class:`TrainedForecaster`."""
    from medai.models import default_registry

    package = (registry or default_registry()).get(name)
    files = {rel: package.file(rel) for rel in package.manifest.files}
    forecaster = EnsembleForecaster.load_weights(package.path, files)
    meta = json.loads(package.file(TRAINING_FILE).read_text())
    weeks = from_json(json.loads(package.file(ILI_FILE).read_text())) if ILI_FILE in package.manifest.files else []
    return TrainedForecaster(forecaster, date.fromisoformat(meta["train_end"]), ModelIdentity(**package.identity()), weeks)


def forecast_flu(rows: Iterable[WeeklyCount], as_of: date, model: TrainedForecaster, refit: bool | None = None) -> QuantileForecast:
    """Hub-format quantiles of weekly admissions, horizons 0-3 from the reference date of ``as_of``.

    Uses only rows dated on or before ``as_of``; locations whose last report is over two weeks old
    are left out (see :func:`dropped_locations`). ``InvalidInput`` for bad rows or an as-of date past the data.
    """
    panel = flu_panel(rows, as_of)
    reference = reference_date_for(as_of)
    check_as_of(panel, reference)
    return model.forecast(panel, as_of, reference, refit)


def dropped_locations(rows: Iterable[WeeklyCount], forecast: QuantileForecast) -> list[str]:
    """Locations present in the input but missing from the forecast (too stale to forecast)."""
    return sorted({r.location for r in rows} - set(forecast.ids))


def forecast_census(data: CensusData, as_of: date, horizon: int, model: TrainedForecaster,
                    refit: bool | None = None) -> QuantileForecast:
    """Daily census quantiles for days 1..``horizon`` after ``as_of`` from rows dated on or before it."""
    limit = max(model.forecaster.horizons)
    if not 1 <= horizon <= limit:
        raise InvalidInput(Problem("horizon", f"must be 1 to {limit} days, got {horizon}", "value"))
    panel = data.panel.until(as_of)
    if panel.n_times == 0:
        raise InvalidInput(Problem("as_of", f"{as_of} is before the first day in the data ({data.panel.start})", "value"))
    if (as_of - panel.end).days > MAX_CENSUS_LAG_DAYS:
        raise InvalidInput(Problem("as_of", f"{as_of} is {(as_of - panel.end).days} days after the last day in the data "
                                   f"({panel.end}); at most {MAX_CENSUS_LAG_DAYS} are allowed", "value"))
    full = model.forecast(panel, as_of, as_of, refit)
    keep = [k for k, h in enumerate(full.horizons) if h <= horizon]
    return QuantileForecast(full.model, full.ids, full.reference_date, full.step_days, tuple(full.horizons[k] for k in keep),
                            full.levels, full.values[:, keep])


def observed_history(panel: Panel, ids: Iterable[str], last: date, periods: int) -> dict[str, list[tuple[str, float | None]]]:
    """The last ``periods`` observations up to ``last`` of each series, for charts (``None`` = not reported)."""
    window = panel.until(last)
    out = {}
    for series in ids:
        if series not in window.ids:
            continue
        values = window.row(series)[-periods:]
        dates = window.dates[-periods:]
        out[series] = [(d.isoformat(), None if np.isnan(v) else float(v)) for d, v in zip(dates, values)]
    return out

