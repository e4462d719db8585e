"""Forecast knowledge files (``assets/knowledge/forecast/``): hub locations and nurse staffing ratios.

Each file is versioned YAML validated by a pydantic schema, with the source it comes from.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.errors import InvalidInput, Problem

FOLDER = "knowledge/forecast"


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Schema):
    """Where a number comes from."""

    source: str = Field(min_length=3)
    section: str | None = None
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")


class Location(_Schema):
    """A forecast-hub location: hub code (two-digit FIPS or ``US``), abbreviation, name and population."""

    code: str = Field(pattern=r"^(US|\d{2})$")
    abbreviation: str = Field(min_length=2, max_length=2)
    name: str = Field(min_length=2)
    population: int = Field(gt=0)


class LocationTable(_Schema):
    """The hub's locations file."""

    version: str
    description: str
    citation: Citation
    locations: list[Location] = Field(min_length=1)


class UnitRatio(_Schema):
    """A unit type's minimum registered-nurse staffing: at most ``patients_per_nurse`` patients per nurse."""

    label: str = Field(min_length=2)
    patients_per_nurse: float = Field(gt=0)
    citation: Citation


class StaffingTable(_Schema):
    """Nurse-to-patient ratios per unit type, and how census series map onto unit types."""

    version: str
    description: str
    shifts_per_day: int = Field(ge=1, le=6)
    units: dict[str, UnitRatio] = Field(min_length=1)
    series_units: dict[str, str] = Field(description="Census series name -> unit type (e.g. icu_covid -> icu).")


def _validated(text: str, schema: type[_Schema], name: str) -> _Schema:
    try:
        return schema.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise InvalidInput(Problem(name, f"not valid YAML: {error}")) from None
    except ValidationError as error:
        raise InvalidInput([Problem(f"{name}: {'.'.join(str(p) for p in e['loc'])}", e["msg"]) for e in error.errors()[:20]]) from None


@lru_cache(maxsize=None)
def _shipped(name: str, schema: type[_Schema]) -> _Schema:
    return _validated(resources.files("medai.assets").joinpath(f"{FOLDER}/{name}").read_text(encoding="utf-8"), schema,
                      f"{FOLDER}/{name}")


def hub_locations() -> LocationTable:
    """The shipped FluSight location table."""
    return _shipped("flusight_locations.yaml", LocationTable)


def staffing_table(path: str | Path | None = None) -> StaffingTable:
    """The shipped nurse staffing ratios, or a user's file in the same schema."""
    if path is None:
        return _shipped("staffing_ratios.yaml", StaffingTable)
    table = _validated(Path(path).read_text(encoding="utf-8"), StaffingTable, str(path))
    unknown = sorted(set(table.series_units.values()) - set(table.units))
    if unknown:
        raise InvalidInput(Problem(f"{path}: series_units", f"unit type(s) {', '.join(unknown)} have no ratio in units"))
    return table
