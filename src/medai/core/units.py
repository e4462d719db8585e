"""Unit normalisation for observations: convert to the catalogue's canonical UCUM unit."""

from __future__ import annotations

import math
from dataclasses import dataclass

from medai.core.catalog import ObservationKind, lookup
from medai.errors import InvalidInput, Problem


@dataclass(frozen=True)
class Quantity:
    """A numeric value with its UCUM unit."""

    value: float
    unit: str | None


def normalise(code: str, value: float, unit: str | None, location: str = "valueQuantity") -> Quantity:
    """Convert ``value`` in ``unit`` to the canonical unit of the catalogued LOINC ``code``.

    Codes not in the catalogue are returned unchanged. A value sent without any unit
    (valid FHIR; some feeds omit it) is kept without a unit, but still range-checked
    as if in the canonical unit so impossible values are caught. Raises ``InvalidInput`` when the
    unit does not convert or the value is physiologically impossible.
    """
    if value is None or not math.isfinite(float(value)):
        raise InvalidInput(Problem(f"{location}.value", "value must be a finite number", "value"))
    entry = lookup(code)
    if entry is None:
        return Quantity(float(value), unit or None)
    if not unit:
        _check_range(entry, float(value), str(value), location)
        return Quantity(float(value), None)
    if unit not in entry.units:
        accepted = ", ".join(sorted(entry.units))
        raise InvalidInput(Problem(f"{location}.code", f"unit {unit!r} does not convert for {entry.name} (LOINC {code}); accepted: {accepted}", "value"))
    factor, offset = entry.units[unit]
    canonical = float(value) * factor + offset
    _check_range(entry, canonical, f"{value} {unit}", location)
    return Quantity(canonical, entry.unit)


def _check_range(entry: ObservationKind, canonical: float, shown: str, location: str) -> None:
    low, high = entry.range
    if not low <= canonical <= high:
        raise InvalidInput(Problem(f"{location}.value", f"{entry.name} of {shown} is impossible (allowed {low}-{high} {entry.unit})", "value"))
