"""One-compartment model with zero-order (intermittent) infusions, by superposition.

For an infusion of rate R = amount / duration starting at s, with k = CL / V:
  during the infusion  C(t) = R / CL * (1 - exp(-k (t - s)))
  after it ends at e   C(t) = R / CL * (1 - exp(-k (e - s))) * exp(-k (t - e))
and concentrations from several doses add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Infusion:
    """An intravenous infusion: start time (h), amount (mg) and duration (h)."""

    start_h: float
    amount_mg: float
    duration_h: float

    def __post_init__(self) -> None:
        if self.amount_mg <= 0 or self.duration_h <= 0:
            raise ValueError("an infusion needs a positive amount and duration")

    @property
    def end_h(self) -> float:
        return self.start_h + self.duration_h


def concentration(times_h: Sequence[float] | np.ndarray, doses: Sequence[Infusion], cl_l_h: float, v_l: float) -> np.ndarray:
    """Concentrations (mg/L) at ``times_h`` after ``doses``."""
    t = np.asarray(times_h, dtype=float)
    k = cl_l_h / v_l
    total = np.zeros_like(t)
    for dose in doses:
        rate = dose.amount_mg / dose.duration_h
        into = np.clip(t - dose.start_h, 0.0, dose.duration_h)
        after = np.clip(t - dose.end_h, 0.0, None)
        total += np.where(t > dose.start_h, rate / cl_l_h * (1 - np.exp(-k * into)) * np.exp(-k * after), 0.0)
    return total


def auc(doses: Sequence[Infusion], cl_l_h: float, v_l: float, start_h: float, end_h: float) -> float:
    """Exact AUC (mg*h/L) between two times: (drug infused - increase in body amount) / CL."""
    infused = sum(d.amount_mg / d.duration_h * max(0.0, min(end_h, d.end_h) - max(start_h, d.start_h)) for d in doses)
    c0, c1 = concentration([start_h, end_h], doses, cl_l_h, v_l)
    return (infused - (c1 - c0) * v_l) / cl_l_h


def steady_state(dose_mg: float, interval_h: float, infusion_h: float, cl_l_h: float, v_l: float) -> dict[str, float]:
    """Steady-state peak (end of infusion), trough (before the next dose) and AUC24 of a repeated regimen."""
    k = cl_l_h / v_l
    accumulation = 1 / (1 - np.exp(-k * interval_h))
    peak = dose_mg / infusion_h / cl_l_h * (1 - np.exp(-k * infusion_h)) * accumulation
    trough = peak * np.exp(-k * (interval_h - infusion_h))
    return {"peak_mg_l": float(peak), "trough_mg_l": float(trough), "auc24": float(dose_mg * 24 / interval_h / cl_l_h)}
