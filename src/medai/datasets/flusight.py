"""CDC FluSight forecast hub: weekly confirmed influenza hospital admissions, their weekly "as-of"
vintages, the hub's location table and the FluSight-ensemble / FluSight-baseline quantile forecasts.

Target files have the hub's layout ``date,location,location_name,value,weekly_rate`` (early vintages
add an index column ``X``, ignored). ``date`` is the Saturday that ends the MMWR week; ``location`` is
a two-digit state FIPS code or ``US``; ``value`` is a count, ``NA`` when not reported. Numeric
location codes that lost their leading zero (``6``) are padded back (``06``). Bad rows raise
:class:`~medai.errors.InvalidInput` naming the file, row and field (every bad row, up to 20).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

TARGET_FILE = "target-data/target-hospital-admissions.csv"
LOCATIONS_FILE = "auxiliary-data/locations.csv"
VINTAGES_ZIP = "target-data-archive_hospital-admissions_asof_to_2024-06-30.zip"
HUB_MODELS = {"FluSight-ensemble": "model-output_FluSight-ensemble_2023-24.zip",
              "FluSight-baseline": "model-output_FluSight-baseline_2023-24.zip"}
HUB_TARGET = "wk inc flu hosp"
MISSING = {"", "NA", "NaN", "nan", "null"}
MAX_PROBLEMS = 20
_VINTAGE_NAME = re.compile(r"target-hospital-admissions_(\d{4}-\d{2}-\d{2})\.csv$")


@dataclass(frozen=True)
class WeeklyCount:
    """One location-week of the target series; ``value`` is ``None`` where the file says NA."""

    date: date
    location: str
    value: float | None


@dataclass(frozen=True)
class HubQuantile:
    """One quantile of one hub forecast (``output_type`` quantile)."""

    reference_date: date
    horizon: int
    target_end_date: date
    location: str
    level: float
    value: float


def location_code(raw: str) -> str:
    """A hub location code: ``US`` or a two-digit FIPS code (``'6'`` -> ``'06'``)."""
    code = raw.strip()
    return code.zfill(2) if code.isdigit() else code


def _date(text: str, where: str, problems: list[Problem]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        problems.append(Problem(where, f"{text!r} is not a date (YYYY-MM-DD)", "value"))
        return None


def _count(text: str, where: str, problems: list[Problem]) -> float | None:
    if text.strip() in MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(where, f"{text!r} is not a number", "value"))
        return None
    if value < 0:
        problems.append(Problem(where, f"counts cannot be negative, got {text}", "value"))
        return None
    return value if value == value else None


def _rows(text: str, name: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in required if column not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {', '.join(missing)} "
                                                      f"(expected at least {','.join(required)})", "structure"))
    return list(reader)


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems[:MAX_PROBLEMS])


def parse_target_csv(text: str, name: str = "target data") -> list[WeeklyCount]:
    """Parse a target file in the hub's layout; ``InvalidInput`` lists each bad row and field."""
    problems: list[Problem] = []
    out = []
    for number, row in enumerate(_rows(text, name, ("date", "location", "value")), start=2):
        where = f"{name}: row {number}"
        when = _date(row["date"] or "", f"{where}, field date", problems)
        value = _count(row["value"] or "", f"{where}, field value", problems)
        code = location_code(row["location"] or "")
        if not code:
            problems.append(Problem(f"{where}, field location", "empty location code", "required"))
        if when is not None and code:
            out.append(WeeklyCount(when, code, value))
        if len(problems) >= MAX_PROBLEMS:
            break
    _raise_if(problems)
    return out


def read_target_csv(path: str | Path) -> list[WeeklyCount]:
    """Read a target file (hub layout) from disk."""
    path = Path(path)
    return parse_target_csv(path.read_text(encoding="utf-8"), path.name)


def load(root: str | Path | None = None) -> list[WeeklyCount]:
    """The latest target series (every location-week to 2024-06-29, with CDC's later revisions)."""
    return read_target_csv(locate("flusight", root) / TARGET_FILE)


def load_vintages(root: str | Path | None = None) -> dict[date, list[WeeklyCount]]:
    """The weekly as-of vintages, keyed by the last week each one holds (the file's date)."""
    archive = zipfile.ZipFile(locate("flusight", root) / VINTAGES_ZIP)
    out = {}
    for member in sorted(archive.namelist()):
        match = _VINTAGE_NAME.search(member)
        if match:
            out[date.fromisoformat(match.group(1))] = parse_target_csv(archive.read(member).decode("utf-8"), member)
    return out


def load_locations(root: str | Path | None = None) -> list[dict[str, str]]:
    """The hub's location table: abbreviation, location (code), location_name, population, rate thresholds."""
    path = locate("flusight", root) / LOCATIONS_FILE
    return _rows(path.read_text(encoding="utf-8"), path.name, ("abbreviation", "location", "location_name", "population"))


def parse_hub_csv(text: str, name: str = "model output") -> list[HubQuantile]:
    """The ``wk inc flu hosp`` quantiles of a model-output file in the hub's layout (other targets skipped)."""
    columns = ("reference_date", "horizon", "target", "target_end_date", "location", "output_type", "output_type_id", "value")
    problems: list[Problem] = []
    out = []
    for number, row in enumerate(_rows(text, name, columns), start=2):
        if row["target"] != HUB_TARGET or row["output_type"] != "quantile":
            continue
        where = f"{name}: row {number}"
        reference = _date(row["reference_date"], f"{where}, field reference_date", problems)
        end = _date(row["target_end_date"], f"{where}, field target_end_date", problems)
        try:
            horizon, level, value = int(row["horizon"]), float(row["output_type_id"]), float(row["value"])
        except ValueError:
            problems.append(Problem(where, "horizon, output_type_id and value must be numbers", "value"))
            continue
        if reference is not None and end is not None:
            out.append(HubQuantile(reference, horizon, end, location_code(row["location"]), level, value))
        if len(problems) >= MAX_PROBLEMS:
            break
    _raise_if(problems)
    return out


def load_hub_forecasts(model: str, root: str | Path | None = None) -> list[HubQuantile]:
    """Every 2023-24 ``wk inc flu hosp`` quantile of ``FluSight-ensemble`` or ``FluSight-baseline``."""
    if model not in HUB_MODELS:
        raise InvalidInput(Problem("model", f"unknown hub model {model!r}; known: {', '.join(HUB_MODELS)}", "value"))
    archive = zipfile.ZipFile(locate("flusight", root) / HUB_MODELS[model])
    out: list[HubQuantile] = []
    for member in sorted(archive.namelist()):
        if member.endswith(".csv"):
            out.extend(parse_hub_csv(archive.read(member).decode("utf-8"), member))
    return out
