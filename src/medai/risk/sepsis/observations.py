"""FHIR Observations -> the challenge's hourly rows (LOINC mapped to the 40 columns, units checked)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from medai.core.records import Observation
from medai.datasets.physionet2019 import COLUMNS
from medai.errors import InvalidInput, Problem
from medai.risk.sepsis.variables import sepsis_variables

_INDEX = {name: i for i, name in enumerate(COLUMNS)}
# Units that are the same quantity as the model's unit, written another way.
_SAME_UNIT = {("%", "1"): 0.01, ("1", "%"): 100.0, ("10*9/L", "10*3/uL"): 1.0, ("meq/L", "mmol/L"): 1.0}


def variable_value(observation: Observation) -> tuple[int, float]:
    """The column index and value (in the model's unit) of an Observation the sepsis model uses.

    Raises ``InvalidInput`` for a code the model does not use or a unit it cannot take.
    """
    table = sepsis_variables().by_loinc()
    code = observation.loinc
    variable = table.get(code or "")
    if variable is None:
        raise InvalidInput(Problem("Observation.code", f"LOINC {code or '(none)'} is not one of the sepsis model's variables", "code-invalid"))
    if observation.value is None:
        raise InvalidInput(Problem("Observation.valueQuantity", f"{variable.label} needs a numeric value", "required"))
    value, unit = observation.value, observation.unit
    if unit and unit != variable.unit:
        factor = _SAME_UNIT.get((unit, variable.unit))
        if factor is None:
            raise InvalidInput(Problem("Observation.valueQuantity.code",
                                       f"unit {unit!r} does not convert to {variable.unit!r} for {variable.label}", "value"))
        value *= factor
    return _INDEX[variable.name], float(value)


def hour_index(effective: datetime, start: datetime) -> int:
    """Whole hours since the stay started (hour 0 is the first hour)."""
    aware = effective if effective.tzinfo else effective.replace(tzinfo=timezone.utc)
    return max(0, int((aware - start) // timedelta(hours=1)))


def hourly_rows(observations: list[Observation], start: datetime, age: float, gender: int) -> np.ndarray:
    """The stay as hourly rows (hours x 40 columns): last value of each variable within each hour.

    Observations the model does not use are skipped; ``ICULOS`` is the hour number + 1.
    """
    measured = []
    for observation in observations:
        if observation.effective is None:
            continue
        try:
            column, value = variable_value(observation)
        except InvalidInput:
            continue
        measured.append((hour_index(observation.effective, start), observation.effective, column, value))
    hours = max((m[0] for m in measured), default=-1) + 1
    rows = np.full((hours, len(COLUMNS)), np.nan)
    for hour, _, column, value in sorted(measured, key=lambda m: m[1]):
        rows[hour, column] = value
    rows[:, _INDEX["Age"]] = age
    rows[:, _INDEX["Gender"]] = gender
    rows[:, _INDEX["ICULOS"]] = np.arange(1, hours + 1)
    return rows
