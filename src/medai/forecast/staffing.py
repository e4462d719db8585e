"""Beds and nurses from census forecasts: expected shortfall against capacity and nurses needed per shift.

Nurses per shift for a unit = ceil(census / patients_per_nurse), with the ratio of the unit type
the series maps to (``staffing_ratios.yaml`` or a site's own file). Plans use two census levels:
the median and a planning quantile (default 90%: enough nurses on nine days in ten). Against a
capacity (staffed beds) the plan gives the probability of exceeding it and the expected shortfall
``E[max(census - capacity, 0)]``, both read off the forecast's quantile function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from medai.errors import InvalidInput, Problem
from medai.forecast.knowledge import StaffingTable, staffing_table
from medai.forecast.quantiles import QuantileForecast


def exceedance_probability(quantiles: np.ndarray, levels: np.ndarray, threshold: float) -> float:
    """P(value > threshold) by linear interpolation of the quantile function (0 / 1 beyond the outer quantiles)."""
    q = np.asarray(quantiles, dtype=float)
    if threshold < q[0]:
        return 1.0
    if threshold >= q[-1]:
        return 0.0
    return float(1 - np.interp(threshold, q, levels))


def expected_shortfall(quantiles: np.ndarray, levels: np.ndarray, capacity: float) -> float:
    """E[max(value - capacity, 0)]: the mean of (Q(u) - capacity)+ over u, by the trapezoid rule on the quantiles.

    The outer tails (below the first and above the last level) take the value of the outermost quantile.
    """
    q, u = np.asarray(quantiles, dtype=float), np.asarray(levels, dtype=float)
    excess = np.maximum(q - capacity, 0)
    grid = np.concatenate([[0.0], u, [1.0]])
    values = np.concatenate([[excess[0]], excess, [excess[-1]]])
    return float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(grid)))


@dataclass(frozen=True)
class StaffingRow:
    """One series on one forecast day: census, nurses per shift and capacity risk."""

    series: str
    unit_type: str
    horizon: int
    date: str
    census_median: float
    census_planning: float
    patients_per_nurse: float
    nurses_per_shift_median: int
    nurses_per_shift_planning: int
    capacity: float | None
    p_over_capacity: float | None
    expected_shortfall_beds: float | None


def unit_type(series: str, table: StaffingTable) -> str:
    """The unit type that staffs a census series ``<location>/<unit>`` (``InvalidInput`` when unmapped)."""
    unit = series.rsplit("/", 1)[-1]
    if unit in table.units:
        return unit
    if unit in table.series_units:
        return table.series_units[unit]
    raise InvalidInput(Problem("unit", f"no staffing ratio for unit {unit!r} of {series}; known: "
                               f"{', '.join(sorted({*table.units, *table.series_units}))}", "code-invalid"))


def staffing_plan(forecast: QuantileForecast, capacity: dict[str, float] | None = None,
                  table: StaffingTable | None = None, planning_level: float = 0.9) -> list[StaffingRow]:
    """Nurses per shift and capacity risk for every series and horizon of a census forecast."""
    if not 0.5 <= planning_level < 1:
        raise InvalidInput(Problem("planning_level", f"must be in [0.5, 1), got {planning_level}", "value"))
    table = table or staffing_table()
    capacity = capacity or {}
    levels = np.asarray(forecast.levels)
    median, planning = forecast.quantile(0.5), forecast.quantile(planning_level)
    rows = []
    for i, series in enumerate(forecast.ids):
        kind = unit_type(series, table)
        ratio = table.units[kind].patients_per_nurse
        beds = capacity.get(series)
        for h, horizon in enumerate(forecast.horizons):
            quantiles = forecast.values[i, h]
            rows.append(StaffingRow(
                series, kind, horizon, forecast.target_date(horizon).isoformat(), float(median[i, h]), float(planning[i, h]),
                ratio, math.ceil(median[i, h] / ratio - 1e-9), math.ceil(planning[i, h] / ratio - 1e-9), beds,
                None if beds is None else exceedance_probability(quantiles, levels, beds),
                None if beds is None else expected_shortfall(quantiles, levels, beds)))
    return rows
