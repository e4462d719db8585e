"""Per-alert explanations in clinical words, from TreeSHAP contributions and the patient's state."""

from __future__ import annotations

import math

import numpy as np

from medai.explain.types import Explanation, FeatureContribution
from medai.risk.sepsis.features import CLINICAL, FEATURE_NAMES, FeatureState, base_variable
from medai.risk.sepsis.variables import sepsis_variables

_GROUPS = [base_variable(name) for name in FEATURE_NAMES]
_DERIVED = {"shock_index": "Shock index (HR/SBP)", "sirs_count": "SIRS criteria met", "qsofa_count": "qSOFA criteria met",
            "Age": "Age", "Gender": "Sex", "ICULOS": "Hours in ICU"}


_DISPLAY_UNITS = {"mm[Hg]": "mmHg", "Cel": "°C", "10*3/uL": "×10³/µL", "1": "", "[pH]": ""}


def _fmt(value: float) -> str:
    return f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def describe(variable: str, state: FeatureState) -> str:
    """The variable's latest value in words, with its change since the previous measurement."""
    if variable == "ICULOS":
        return f"{state.hours} hours since admission to the unit"
    if variable not in CLINICAL:
        return _DERIVED.get(variable, variable)
    meta = {v.name: v for v in sepsis_variables().variables}[variable]
    i = CLINICAL.index(variable)
    value = state.last[i]
    if math.isnan(value):
        return f"{meta.label} not measured yet"
    unit = _DISPLAY_UNITS.get(meta.unit, meta.unit)
    text = f"{meta.label} {_fmt(value)} {unit}".rstrip()
    previous, when = state.previous[i], state.previous_hour[i]
    if not math.isnan(previous) and previous != value:
        ago = int(state.hours - 1 - when)
        direction = "up" if value > previous else "down"
        text += f", {direction} from {_fmt(previous)} {ago} h ago" if ago > 0 else f", {direction} from {_fmt(previous)}"
    hours_since = state.hours - 1 - state.last_hour[i]
    if hours_since >= 1:
        text += f" (measured {int(hours_since)} h ago)"
    return text


def grouped_contributions(contributions: np.ndarray) -> dict[str, float]:
    """Per-variable sum of the per-feature contributions (log-odds) for one row."""
    totals: dict[str, float] = {}
    for group, value in zip(_GROUPS, contributions):
        totals[group] = totals.get(group, 0.0) + float(value)
    return totals


def explain_row(contributions: np.ndarray, state: FeatureState, probability: float, top: int = 4) -> Explanation:
    """The explanation of one hourly risk: the variables pushing it up most, in clinical words."""
    totals = sorted(grouped_contributions(contributions).items(), key=lambda item: -item[1])
    drivers = [(name, weight) for name, weight in totals if weight > 0][:top]
    items = []
    for name, weight in drivers:
        value = state.last[CLINICAL.index(name)] if name in CLINICAL else None
        items.append(FeatureContribution(feature=name, value=None if value is None or math.isnan(value) else round(float(value), 2),
                                         contribution=round(weight, 3), note=describe(name, state)))
    summary = "; ".join(item.note for item in items) or "no measurement raised the risk"
    return Explanation(method="TreeSHAP (LightGBM), grouped by measurement; log-odds",
                       summary=f"Sepsis risk {probability:.0%}: {summary}", contributions=items,
                       caveats=["Contributions come from the gradient-boosted component of the model.",
                                "Missing measurements are carried forward from the last value."])
