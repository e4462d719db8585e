"""Auxiliary training series for the flu network: national ILINet, 27 seasons of epidemic shapes.

The admissions series starts in 2022, too short to learn how seasons grow, peak and fall; ILINet
goes back to 1997. Two versions are offered:

* ``ili``: weighted ILI per 100,000 visits;
* ``ili_adjusted``: the same, and the ILI share of visits in three age bands, each minus 0.9 x its
  lowest value over the previous 52 weeks (the non-influenza floor of ILI), so that what is left
  grows and falls like influenza activity, as hospital admissions do.

Only weeks ending at least ``ILI_LAG_DAYS`` before the as-of date are used (ILINet is published
about a week later). The series are shipped inside the flu model package (public domain).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from medai.datasets.ilinet import AGE_BANDS, IliWeek
from medai.forecast.panel import Panel, build_panel

ILI_LAG_DAYS = 7
PER_100K_VISITS = 1000.0
FLOOR_WEEKS = 52
KINDS = ("none", "ili", "ili_adjusted")


def _above_floor(values: np.ndarray, minimum: float) -> np.ndarray:
    """Each value minus 0.9 x the lowest of the previous 52 weeks (itself included), floored at ``minimum``."""
    out = np.full(values.shape, np.nan)
    for k in range(len(values)):
        past = values[max(0, k - FLOOR_WEEKS):k + 1]
        if not np.isnan(values[k]):
            out[k] = max(values[k] - 0.9 * np.nanmin(past), minimum)
    return out


def ili_panels(weeks: Sequence[IliWeek], as_of: date, kind: str) -> list[Panel]:
    """The auxiliary panels of ``kind`` as known on ``as_of`` (empty for ``none`` or when no week is old enough)."""
    if kind not in KINDS:
        raise ValueError(f"auxiliary kind must be one of {', '.join(KINDS)}, got {kind!r}")
    known = [w for w in weeks if w.week_end <= as_of - timedelta(days=ILI_LAG_DAYS)]
    if kind == "none" or not known:
        return []
    ends = [w.week_end for w in known]
    overall = np.array([np.nan if w.weighted_ili is None else w.weighted_ili for w in known])
    if kind == "ili":
        return [_panel("ILI", ends, overall * PER_100K_VISITS)]
    panels = [_panel("ILI", ends, _above_floor(overall, 0.05) * PER_100K_VISITS)]
    for band in AGE_BANDS:
        share = np.array([np.nan if w.ili_by_age.get(band) is None else w.ili_by_age[band] for w in known])
        panels.append(_panel(f"ILI {band}", ends, _above_floor(share, 0.005) * PER_100K_VISITS))
    return panels


def _panel(name: str, ends: list[date], values: np.ndarray) -> Panel:
    return build_panel(((name, end, None if np.isnan(v) else float(v)) for end, v in zip(ends, values)), 7, name)


def to_json(weeks: Sequence[IliWeek]) -> list[dict]:
    """ILINet weeks as JSON-ready records (for the model package)."""
    return [{"year": w.year, "week": w.week, "week_end": w.week_end.isoformat(), "weighted_ili": w.weighted_ili,
             "total_patients": w.total_patients, "ili_by_age": w.ili_by_age} for w in weeks]


def from_json(records: Sequence[dict]) -> list[IliWeek]:
    """The inverse of :func:`to_json`."""
    return [IliWeek(r["year"], r["week"], date.fromisoformat(r["week_end"]), r["weighted_ili"], r["total_patients"],
                    r["ili_by_age"]) for r in records]
