"""Unit normalisation for observations: convert to the catalogue's canonical UCUM unit."""

from __future__ import annotations

import math
from dataclasses import dataclass

from medai.core.catalog import lookup
from medai.errors import InvalidInput, Problem


@dataclass(frozen=True)
class Quantity:
    """A numeric value with its UCUM unit."""

    value: float
    unit: str


def normalise(code: str, value: float, unit: str | None, location: str = "valueQuantity") -> Quantity:
    """Convert ``value`` in ``unit`` to the canonical unit of the catalogued LOINC ``code``.

    Codes not in the catalogue are returned unchanged. Raises ``InvalidInput`` when the
    unit does not convert or the value is physiologically impossible.
    """
    if value is None or not math.isfinite(float(value)):
        raise InvalidInput(Problem(f"{location}.value", "value must be a finite number", "value"))
    entry = lookup(code)
    if entry is None:
        return Quantity(float(value), unit or "")
    if unit not in entry.units:
        accepted = ", ".join(sorted(entry.units))
        raise InvalidInput(Problem(f"{location}.code", f"unit {unit!r} does not convert for {entry.name} (LOINC {code}); accepted: {accepted}", "value"))
    factor, offset = entry.units[unit]
    canonical = float(value) * factor + offset
    low, high = entry.range
    if not low <= canonical <= high:
        raise InvalidInput(Problem(f"{location}.value", f"{entry.name} of {value} {unit} is impossible (allowed {low}-{high} {entry.unit})", "value"))
    return Quantity(canonical, entry.unit)
