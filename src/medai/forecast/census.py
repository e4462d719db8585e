"""Census data: daily inpatient / ICU occupancy per location and unit, from CSV, the HHS state file, or FHIR,
and census forecasts written back as CSV.

Series are named ``<location>/<unit>`` (``CA/inpatient``, ``Ward 7B/icu``). Three sources:

* a CSV ``date,location,unit,census[,capacity][,admissions]``: one row per location, unit and day
  (``unit`` defaults to ``inpatient``; ``capacity`` is staffed beds, the latest value is used);
* the HHS state timeseries (detected by its ``inpatient_beds_used`` column): ``<state>/inpatient`` is
  all inpatient beds in use (capacity: inpatient beds) and ``<state>/icu_covid`` adult ICU patients
  with confirmed COVID-19 (the only ICU census in that file); admissions are COVID-19 admissions;
* FHIR ``Encounter`` resources: the midnight census of each location, counting encounters that
  started before and had not ended by midnight; admissions count encounters starting that day.

Days a source does not report stay missing (never zero); duplicated days and negative counts are
refused with the row named.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from medai.core.fhir import record_from_fhir
from medai.core.fhir.files import bundle_files, read_bundle
from medai.core.records import Encounter
from medai.datasets import hhs_capacity
from medai.errors import InvalidInput, Problem
from medai.forecast.panel import Panel, build_panel
from medai.forecast.quantiles import QuantileForecast

REQUIRED = ("date", "location", "census")
HHS_SERIES = {"inpatient": "inpatient_beds_used", "icu_covid": "icu_covid"}
ICU_WORDS = ("icu", "intensive", "critical care", "itu")
INPATIENT_CLASSES = ("IMP", "ACUTE", "NONAC")
"""Encounter.class codes (v3 ActCode) of inpatient stays; an encounter without a class counts as inpatient."""


@dataclass(frozen=True)
class CensusData:
    """Daily census per series, the latest known capacity of each series, and daily admissions when known."""

    panel: Panel
    capacity: dict[str, float] = field(default_factory=dict)
    admissions: Panel | None = None

    def until(self, as_of: date) -> CensusData:
        """What was known on ``as_of``."""
        return CensusData(self.panel.until(as_of), self.capacity, self.admissions.until(as_of) if self.admissions else None)


def _number(text: str, where: str, problems: list[Problem]) -> float | None:
    text = text.replace(",", "").strip()
    if text in ("", "NA"):
        return None
    try:
        return float(text)
    except ValueError:
        problems.append(Problem(where, f"{text!r} is not a number", "value"))
        return None


def _numbered(reader: csv.DictReader, name: str):
    """(row number, row) of each CSV row; a malformed row is ``InvalidInput`` naming its line."""
    number = 1
    while True:
        number += 1
        try:
            yield number, next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InvalidInput(Problem(f"{name}: line {reader.line_num}", f"malformed CSV: {error}", "structure")) from None


def parse_census_csv(text: str, name: str = "census data") -> CensusData:
    """A census CSV in medai's layout (module docstring) or the HHS state timeseries layout."""
    text = text.lstrip("\ufeff")
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as error:
        raise InvalidInput(Problem(f"{name}: header", f"malformed CSV: {error}", "structure")) from None
    if "inpatient_beds_used" in header:
        return census_from_hhs(hhs_capacity.parse(text, name))
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {', '.join(missing)} (expected "
                                   "date,location,unit,census[,capacity][,admissions] or the HHS state timeseries)", "structure"))
    problems: list[Problem] = []
    census, admissions, capacity = [], [], {}
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    for number, row in _numbered(reader, name):
        where = f"{name}: row {number}"
        try:
            when = date.fromisoformat(row["date"].strip()[:10])
        except ValueError:
            problems.append(Problem(f"{where}, field date", f"{row['date']!r} is not a date (YYYY-MM-DD)", "value"))
            continue
        series = f"{row['location'].strip()}/{(row.get('unit') or 'inpatient').strip()}"
        census.append((series, when, _number(row["census"], f"{where}, field census", problems)))
        if row.get("admissions") is not None:
            admissions.append((series, when, _number(row["admissions"], f"{where}, field admissions", problems)))
        if (row.get("capacity") or "").strip():
            beds = _number(row["capacity"], f"{where}, field capacity", problems)
            if beds is not None:
                capacity[series] = beds
        if len(problems) >= 20:
            break
    if problems:
        raise InvalidInput(problems)
    panel = build_panel(census, 1, name)
    return CensusData(panel, capacity, build_panel(admissions, 1, f"{name} (admissions)") if admissions else None)


def text_of(raw: bytes) -> str:
    """A CSV file's text, gunzipped when it is gzip-compressed."""
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")


def read_census_csv(path: str | Path) -> CensusData:
    """Read a census CSV (``.gz`` accepted)."""
    path = Path(path)
    return parse_census_csv(text_of(path.read_bytes()), path.name)


def census_csv(forecast: QuantileForecast) -> str:
    """A census forecast as CSV: ``reference_date,location,unit,horizon,target_date,output_type,output_type_id,value``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("reference_date", "location", "unit", "horizon", "target_date", "output_type", "output_type_id", "value"))
    for i, series in enumerate(forecast.ids):
        location, _, unit = series.rpartition("/")
        for h, horizon in enumerate(forecast.horizons):
            for q, level in enumerate(forecast.levels):
                writer.writerow((forecast.reference_date.isoformat(), location, unit, horizon,
                                 forecast.target_date(horizon).isoformat(), "quantile", f"{level:g}", f"{forecast.values[i, h, q]:.2f}"))
    return buffer.getvalue()


def census_from_hhs(days: Iterable[hhs_capacity.StateDay]) -> CensusData:
    """The HHS state series: ``<state>/inpatient`` and ``<state>/icu_covid``, capacity = latest inpatient beds."""
    records, capacity = [], {}
    for day in days:
        for unit, key in HHS_SERIES.items():
            records.append((f"{day.state}/{unit}", day.date, day.values[key]))
        if day.values["inpatient_beds"] is not None:
            capacity[f"{day.state}/inpatient"] = day.values["inpatient_beds"]
    return CensusData(build_panel(records, 1, "HHS state timeseries"), capacity, None)


def covid_flow_from_hhs(days: Iterable[hhs_capacity.StateDay]) -> tuple[Panel, Panel]:
    """COVID-19 admissions (``previous_day`` fields moved to the day of admission) and COVID-19 inpatients per state."""
    admitted, census = [], []
    for day in days:
        adult, child = day.values["covid_adult_admissions"], day.values["covid_pediatric_admissions"]
        admitted.append((day.state, day.date - timedelta(days=1), None if adult is None else adult + (child or 0)))
        adult, child = day.values["covid_adult_inpatients"], day.values["covid_pediatric_inpatients"]
        census.append((day.state, day.date, None if adult is None else adult + (child or 0)))
    return build_panel(admitted, 1, "HHS admissions"), build_panel(census, 1, "HHS COVID-19 inpatients")


def default_unit(encounter: Encounter) -> str:
    """``icu`` when the encounter's location or type names intensive care, else ``inpatient``."""
    text = " ".join([encounter.location or "", *(concept.label for concept in encounter.type)]).lower()
    return "icu" if any(word in text for word in ICU_WORDS) else "inpatient"


def census_from_encounters(encounters: Iterable[Encounter], start: date, end: date,
                           unit_of: Callable[[Encounter], str] = default_unit, site: str = "hospital") -> CensusData:
    """Midnight census and daily admissions of ``site`` from inpatient encounters, ``start`` to ``end`` inclusive.

    An encounter without an end counts as still in hospital only while its status is ``in-progress``;
    encounters without a start, or of another class than inpatient (``IMP``/``ACUTE``/``NONAC``), are skipped.
    """
    counts: dict[tuple[str, date], int] = defaultdict(int)
    admitted: dict[tuple[str, date], int] = defaultdict(int)
    series_ids = set()
    horizon = datetime.combine(end + timedelta(days=1), time(), timezone.utc)
    for encounter in encounters:
        if encounter.start is None or (encounter.class_code or "IMP") not in INPATIENT_CLASSES:
            continue
        stop = encounter.end or (horizon if encounter.status == "in-progress" else None)
        if stop is None:
            continue
        series = f"{site}/{unit_of(encounter)}"
        series_ids.add(series)
        begin = as_utc(encounter.start)
        admitted[(series, begin.date())] += 1
        day = max(begin.date() + timedelta(days=1), start)
        while day <= end and datetime.combine(day, time(), timezone.utc) < as_utc(stop):
            counts[(series, day)] += 1
            day += timedelta(days=1)
    if not series_ids:
        raise InvalidInput(Problem("encounters", "no inpatient encounter with a start date", "required"))
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    census = [(s, d, float(counts[(s, d)])) for s in sorted(series_ids) for d in days]
    flow = [(s, d, float(admitted[(s, d)])) for s in sorted(series_ids) for d in days]
    return CensusData(build_panel(census, 1, "encounters"), {}, build_panel(flow, 1, "encounters (admissions)"))


def encounters_in(resources: Iterable[dict]) -> list[Encounter]:
    """The Encounter records among FHIR resources (other resource types are ignored)."""
    return [record_from_fhir(r) for r in resources if r.get("resourceType") == "Encounter"]


def read_fhir_encounters(path: str | Path) -> list[Encounter]:
    """Every Encounter in the FHIR Bundles of a JSON file, a folder or a zip."""
    resources = []
    for name, source in bundle_files(Path(path)):
        resources.extend(entry.get("resource") or {} for entry in read_bundle(name, source).get("entry", []))
    return encounters_in(resources)


def as_utc(moment: datetime) -> datetime:
    """A datetime in UTC (a naive one is taken to be UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
