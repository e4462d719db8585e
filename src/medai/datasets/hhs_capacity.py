"""HHS "COVID-19 Reported Patient Impact and Hospital Capacity by State Timeseries" (healthdata.gov
g62h-syeh), the reduced 13-column copy: daily inpatient bed use and COVID-19 census by state.

Caveats of this copy, handled here:

* numbers carry thousands separators (``"2,915"``) and dates are written ``2021/06/22``;
* rows are unsorted; they are returned sorted by state and date;
* ``critical_staffing_shortage_today_yes`` is 1 on every row (corrupted) and is not read;
* the only ICU census is ``staffed_icu_adult_patients_confirmed_covid`` (adult ICU patients with
  confirmed COVID-19), not total ICU occupancy;
* ``inpatient_beds_used`` can exceed ``inpatient_beds`` (313 rows) because the two fields are
  reported by different sets of hospitals; values are kept as published.

Empty fields are ``None``. Bad rows raise :class:`~medai.errors.InvalidInput` naming row and field.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

FILE = "COVID-19_Reported_Patient_Impact_and_Hospital_Capacity_by_State_Timeseries.csv.gz"
FIELDS = {
    "inpatient_beds": "inpatient_beds",
    "inpatient_beds_used": "inpatient_beds_used",
    "icu_covid": "staffed_icu_adult_patients_confirmed_covid",
    "covid_adult_inpatients": "total_adult_patients_hospitalized_confirmed_covid",
    "covid_pediatric_inpatients": "total_pediatric_patients_hospitalized_confirmed_covid",
    "covid_adult_admissions": "previous_day_admission_adult_covid_confirmed",
    "covid_pediatric_admissions": "previous_day_admission_pediatric_covid_confirmed",
}
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class StateDay:
    """One state's report for one day; each field of :data:`FIELDS` is a count or ``None``."""

    state: str
    date: date
    values: dict[str, float | None]


def _value(text: str | None) -> float | None:
    text = (text or "").replace(",", "").strip()
    return None if text == "" else float(text)


def parse(text: str, name: str = FILE) -> list[StateDay]:
    """Parse the state timeseries CSV (as published or as this reduced copy)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in ("state", "date", *FIELDS.values()) if column not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {', '.join(missing)}", "structure"))
    out, problems = [], []
    for number, row in enumerate(reader, start=2):
        try:
            when = date.fromisoformat(row["date"].strip().replace("/", "-"))
        except ValueError:
            problems.append(Problem(f"{name}: row {number}, field date", f"{row['date']!r} is not a date", "value"))
            continue
        values = {}
        for key, column in FIELDS.items():
            try:
                values[key] = _value(row[column])
            except ValueError:
                problems.append(Problem(f"{name}: row {number}, field {column}", f"{row[column]!r} is not a number", "value"))
        out.append(StateDay(row["state"].strip(), when, values))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InvalidInput(problems)
    return sorted(out, key=lambda day: (day.state, day.date))


def read(path: str | Path) -> list[StateDay]:
    """Read the file from disk (``.gz`` or plain CSV)."""
    path = Path(path)
    raw = path.read_bytes()
    return parse((gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8"), path.name)


def load(root: str | Path | None = None) -> list[StateDay]:
    """Every shared state-day, 2020-01-01 to 2021-06-30 (53 jurisdictions)."""
    return read(locate("hhs_capacity", root) / FILE)
