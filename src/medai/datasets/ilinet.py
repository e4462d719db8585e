"""CDC ILINet (FluView): national weekly percentage of outpatient visits for influenza-like illness.

The file is FluView's export: one title line, then a header (``REGION TYPE,REGION,YEAR,WEEK,
% WEIGHTED ILI,...``); ``X`` marks a not-applicable field. Each MMWR week is dated by the Saturday
that ends it. In the 1998-2002 summers (weeks 21-39) nothing was reported and the file says 0 ILI
from 0 patients: those weeks are read as missing (``None``), not as zero disease.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

FILE = "ILINet.csv"
AGE_BANDS = ("0-4", "5-24", "65")
"""Age bands reported in every season (25-64 was later split into 25-49 and 50-64)."""


@dataclass(frozen=True)
class IliWeek:
    """One national MMWR week: weighted ILI (%), the patients seen, and ILI visits in each age band as a
    percentage of all visits (``None`` = not reported)."""

    year: int
    week: int
    week_end: date
    weighted_ili: float | None
    total_patients: int | None
    ili_by_age: dict[str, float | None]


def mmwr_week_end(year: int, week: int) -> date:
    """The Saturday ending MMWR week ``week`` of ``year`` (week 1 is the first Sunday-Saturday week with 4+ days in January)."""
    january_4 = date(year, 1, 4)
    first_sunday = january_4 - timedelta(days=(january_4.weekday() + 1) % 7)
    return first_sunday + timedelta(days=7 * (week - 1) + 6)


def _number(text: str) -> float | None:
    text = text.strip()
    return None if text in ("", "X") else float(text)


def parse(text: str, name: str = FILE) -> list[IliWeek]:
    """Parse FluView's national ILINet export; ``InvalidInput`` names the row and field of a problem."""
    lines = text.lstrip("\ufeff").splitlines()
    start = next((i for i, line in enumerate(lines[:3]) if line.startswith("REGION TYPE")), None)
    if start is None:
        raise InvalidInput(Problem(f"{name}: header", "no 'REGION TYPE,...' header line in the first three lines", "structure"))
    out = []
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines[start:]))), start=start + 2):
        try:
            year, week = int(row["YEAR"]), int(row["WEEK"])
            ili, patients = _number(row["% WEIGHTED ILI"]), _number(row["TOTAL PATIENTS"])
            ages = {band: _number(row[f"AGE {band}"]) for band in AGE_BANDS}
        except (KeyError, ValueError, TypeError) as error:
            raise InvalidInput(Problem(f"{name}: row {number}", f"unreadable YEAR/WEEK/% WEIGHTED ILI/TOTAL PATIENTS ({error})",
                                       "value")) from None
        reported = patients is not None and patients > 0
        by_age = {band: 100 * count / patients if reported and count is not None else None for band, count in ages.items()}
        out.append(IliWeek(year, week, mmwr_week_end(year, week), ili if reported else None,
                           int(patients) if reported else None, by_age))
    return out


def load(root: str | Path | None = None) -> list[IliWeek]:
    """Every shared national week, 1997 week 40 to 2024 week 26."""
    return parse((locate("ilinet", root) / FILE).read_text(encoding="utf-8"))
