"""Scenario planning: "what if admissions rise 30%?" for one series, from a census file with admissions.

The length-of-stay model is fitted on every series of the file up to the as-of date (or, from FHIR
Encounters, on the individual stays), then the chosen series is projected with admissions unchanged
and with the uplift, side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from medai.datasets import hhs_capacity
from medai.errors import InvalidInput, Problem
from medai.core.records import Encounter
from medai.forecast.census import (INPATIENT_CLASSES, as_utc, census_from_encounters, covid_flow_from_hhs,
                                   parse_census_csv, read_fhir_encounters, text_of)
from medai.forecast.los import LengthOfStay
from medai.forecast.panel import Panel


@dataclass(frozen=True)
class ScenarioResult:
    """Projected census per day: the median without change, and the median and 80% / 95% intervals with the uplift."""

    series: str
    as_of: date
    uplift: float
    mean_los_days: float
    admissions_per_day: float
    rows: list[dict]


def read_flows(raw: bytes, name: str) -> tuple[Panel, Panel]:
    """(daily admissions, daily census) from a census CSV with an ``admissions`` column or the HHS state file.

    For the HHS file the series are states and the flow is COVID-19 admissions into COVID-19 inpatient beds.
    """
    text = text_of(raw)
    if "inpatient_beds_used" in text.split("\n", 1)[0]:
        return covid_flow_from_hhs(hhs_capacity.parse(text, name))
    data = parse_census_csv(text, name)
    if data.admissions is None:
        raise InvalidInput(Problem(f"{name}: header", "scenarios need an 'admissions' column (daily admissions per series)",
                                   "required"))
    return data.admissions, data.panel


def stays_model(encounters: Iterable[Encounter], as_of: date) -> LengthOfStay:
    """The LOS distribution of individual inpatient stays begun by ``as_of`` (those not over by then are censored)."""
    moment = datetime.combine(as_of + timedelta(days=1), time(), timezone.utc)
    lengths, ongoing = [], []
    for encounter in encounters:
        if encounter.start is None or as_utc(encounter.start) >= moment or (encounter.class_code or "IMP") not in INPATIENT_CLASSES:
            continue
        start, end = as_utc(encounter.start), encounter.end and as_utc(encounter.end)
        if end is None and encounter.status != "in-progress":
            continue
        still_in = end is None or end > moment
        lengths.append(((moment if still_in else end) - start).total_seconds() / 86400)
        ongoing.append(still_in)
    return LengthOfStay().fit_stays(lengths, ongoing)


def project(admissions: Panel, census: Panel, series: str, as_of: date, uplift: float, horizon: int = 14,
            los: LengthOfStay | None = None) -> ScenarioResult:
    """Project ``series`` ``horizon`` days with and without ``uplift``, through ``los`` or, by default, a LOS
    fitted on the flows up to ``as_of``."""
    if series not in census.ids or series not in admissions.ids:
        known = ", ".join(sorted(set(census.ids) & set(admissions.ids))[:20])
        raise InvalidInput(Problem("series", f"{series!r} has no admissions and census; known: {known}", "not-found"))
    if not 1 <= horizon <= 60:
        raise InvalidInput(Problem("horizon", f"must be 1 to 60 days, got {horizon}", "value"))
    admissions, census = admissions.until(as_of), census.until(as_of)
    now = census.value_on(series, as_of)
    if now is None:
        raise InvalidInput(Problem("as_of", f"{series} has no census reported on {as_of}", "value"))
    model = los or LengthOfStay().fit(admissions, census)
    history = admissions.row(series)
    base = model.scenario(history, now, horizon, 0.0)
    changed = model.scenario(history, now, horizon, uplift)
    levels = list(changed.levels)
    rows = []
    for h in range(horizon):
        q = changed.values[h]
        rows.append({"date": (as_of + timedelta(days=h + 1)).isoformat(), "base_median": float(base.values[h, levels.index(0.5)]),
                     "median": float(q[levels.index(0.5)]), "lower_80": float(q[levels.index(0.1)]),
                     "upper_80": float(q[levels.index(0.9)]), "lower_95": float(q[levels.index(0.025)]),
                     "upper_95": float(q[levels.index(0.975)])})
    return ScenarioResult(series, as_of, uplift, model.mean_days_, changed.expected_admissions_per_day, rows)


def scenario_table(path: str | Path, series: str, as_of: date, uplift: float, horizon: int = 14, fhir: bool = False,
                   history_days: int = 180) -> ScenarioResult:
    """:func:`project` for a census file on disk, or (``fhir``) for the Encounters in FHIR Bundles."""
    path = Path(path)
    if not fhir:
        admissions, census = read_flows(path.read_bytes(), path.name)
        return project(admissions, census, series, as_of, uplift, horizon)
    encounters = read_fhir_encounters(path)
    flows = census_from_encounters(encounters, as_of - timedelta(days=history_days - 1), as_of, site=path.stem)
    return project(flows.admissions, flows.panel, series, as_of, uplift, horizon, stays_model(encounters, as_of))
