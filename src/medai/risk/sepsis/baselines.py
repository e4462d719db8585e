"""Hourly clinical baselines for sepsis early warning: qSOFA, SIRS and NEWS2 on PhysioNet 2019 stays.

Each score is computed at every hour of a stay, strictly causally: a variable's value at hour
t is its last measurement at or before t (forward fill, as in
:func:`medai.risk.news2_validation.forward_fill`). A variable never measured so far scores 0
points, so every hour has a score (no NaN) and the arrays line up with ``stay.labels``.

Approximations forced by the data (state them wherever these scores are reported):

* qSOFA (Seymour et al., JAMA 2016): respiratory rate >= 22/min and systolic BP <= 100 mmHg
  score 1 each. Altered mentation (GCS < 15) is not in the challenge data and is omitted, so
  the score ranges 0-2 instead of 0-3.
* SIRS (Bone et al., Chest 1992): temperature > 38 or < 36 degC; heart rate > 90/min;
  respiratory rate > 20/min or PaCO2 < 32 mmHg; WBC > 12 or < 4 x10^3/uL (band forms are not
  in the data). Range 0-4.
* NEWS2 (RCP 2017): the shipped chart via :func:`medai.risk.news2_validation.hourly_scores`;
  consciousness taken as Alert and air as room air (not in the data), SpO2 scale 1.

``BASELINES`` maps each name to ``(function, conventional alert threshold)``; an hour alerts
when ``score >= threshold``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from medai.datasets.physionet2019 import PatientStay
from medai.risk.news2 import News2Scorer
from medai.risk.news2_validation import forward_fill, hourly_scores


def _filled(stay: PatientStay, *names: str) -> dict[str, np.ndarray]:
    """Forward-filled columns of a stay, by name (NaN until first measured)."""
    filled = forward_fill(np.column_stack([stay.column(name) for name in names]).astype(float))
    return {name: filled[:, i] for i, name in enumerate(names)}


def qsofa(stay: PatientStay) -> np.ndarray:
    """Hourly qSOFA without mentation (0-2): Resp >= 22 and SBP <= 100 score 1 each; unmeasured scores 0."""
    v = _filled(stay, "Resp", "SBP")
    with np.errstate(invalid="ignore"):
        return (v["Resp"] >= 22).astype(float) + (v["SBP"] <= 100)


def sirs(stay: PatientStay) -> np.ndarray:
    """Hourly SIRS criteria met (0-4): temperature, heart rate, respiration/PaCO2, WBC; unmeasured scores 0."""
    v = _filled(stay, "Temp", "HR", "Resp", "PaCO2", "WBC")
    with np.errstate(invalid="ignore"):
        temperature = (v["Temp"] > 38) | (v["Temp"] < 36)
        heart_rate = v["HR"] > 90
        respiration = (v["Resp"] > 20) | (v["PaCO2"] < 32)
        white_cells = (v["WBC"] > 12) | (v["WBC"] < 4)
    return temperature.astype(float) + heart_rate + respiration + white_cells


@lru_cache(maxsize=1)
def _news2_scorer() -> News2Scorer:
    # min_parameters=0: a parameter never measured contributes 0 points instead of making the hour NaN
    return News2Scorer(min_parameters=0).fit()


def news2(stay: PatientStay) -> np.ndarray:
    """Hourly NEWS2 from forward-filled vitals (Alert, room air assumed); unmeasured parameters score 0."""
    if len(stay.values) == 0:
        return np.zeros(0)
    return hourly_scores(stay, _news2_scorer()).astype(float)


BASELINES: dict[str, tuple[Callable[[PatientStay], np.ndarray], float]] = {
    "qSOFA": (qsofa, 2),
    "SIRS": (sirs, 2),
    "NEWS2": (news2, 5),
}
