"""The FluSight hub's model-output layout: write our forecasts, read anyone's back.

One row per location, horizon and quantile level::

    reference_date,target,horizon,target_end_date,location,output_type,output_type_id,value
    2024-01-06,wk inc flu hosp,0,2024-01-06,US,quantile,0.01,14011.52
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np

from medai.datasets.flusight import HUB_TARGET, HubQuantile
from medai.errors import InvalidInput, Problem
from medai.forecast.quantiles import HUB_LEVELS, QuantileForecast

COLUMNS = ("reference_date", "target", "horizon", "target_end_date", "location", "output_type", "output_type_id", "value")


def hub_csv(forecast: QuantileForecast) -> str:
    """The forecast as hub model-output CSV text (values rounded to 2 decimals, which keeps their order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, location in enumerate(forecast.ids):
        for h, horizon in enumerate(forecast.horizons):
            end = forecast.target_date(horizon).isoformat()
            for q, level in enumerate(forecast.levels):
                writer.writerow((forecast.reference_date.isoformat(), HUB_TARGET, horizon, end, location, "quantile",
                                 f"{level:g}", f"{forecast.values[i, h, q]:.2f}"))
    return buffer.getvalue()


def write_hub_csv(forecast: QuantileForecast, path: str | Path) -> Path:
    """Write :func:`hub_csv` to ``path``."""
    path = Path(path)
    path.write_text(hub_csv(forecast), encoding="utf-8")
    return path


def from_hub_rows(rows: Iterable[HubQuantile], reference_date: date, model: str, horizons: tuple[int, ...] = (0, 1, 2, 3),
                  locations: list[str] | None = None) -> QuantileForecast:
    """One reference date's hub quantiles as a :class:`QuantileForecast` (``NaN`` where a quantile is absent)."""
    rows = [r for r in rows if r.reference_date == reference_date and r.horizon in horizons]
    if not rows:
        raise InvalidInput(Problem("reference_date", f"no {HUB_TARGET!r} quantiles for {reference_date}", "not-found"))
    ids = locations or sorted({r.location for r in rows}, key=lambda code: (code != "US", code))
    position = {code: i for i, code in enumerate(ids)}
    levels = {round(level, 4): q for q, level in enumerate(HUB_LEVELS)}
    values = np.full((len(ids), len(horizons), len(HUB_LEVELS)), np.nan)
    for r in rows:
        q = levels.get(round(r.level, 4))
        if q is not None and r.location in position:
            values[position[r.location], horizons.index(r.horizon), q] = r.value
    return QuantileForecast(model, tuple(ids), reference_date, 7, horizons, HUB_LEVELS, values)
