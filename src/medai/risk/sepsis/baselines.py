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


def qsofa_count(resp, sbp):
    """qSOFA criteria met without mentation (0-2) for values or arrays; NaN (unmeasured) meets none."""
    with np.errstate(invalid="ignore"):
        return np.asarray(resp >= 22, dtype=float) + np.asarray(sbp <= 100, dtype=float)


def sirs_count(temp, hr, resp, paco2, wbc):
    """SIRS criteria met (0-4) for values or arrays; NaN (unmeasured) meets none."""
    with np.errstate(invalid="ignore"):
        temperature = np.asarray((temp > 38) | (temp < 36), dtype=float)
        respiration = np.asarray((resp > 20) | (paco2 < 32), dtype=float)
        white_cells = np.asarray((wbc > 12) | (wbc < 4), dtype=float)
        return temperature + np.asarray(hr > 90, dtype=float) + respiration + white_cells


def qsofa(stay: PatientStay) -> np.ndarray:
    """Hourly qSOFA without mentation (0-2): Resp >= 22 and SBP <= 100 score 1 each; unmeasured scores 0."""
    v = _filled(stay, "Resp", "SBP")
    return qsofa_count(v["Resp"], v["SBP"])


def sirs(stay: PatientStay) -> np.ndarray:
    """Hourly SIRS criteria met (0-4): temperature, heart rate, respiration/PaCO2, WBC; unmeasured scores 0."""
    v = _filled(stay, "Temp", "HR", "Resp", "PaCO2", "WBC")
    return sirs_count(v["Temp"], v["HR"], v["Resp"], v["PaCO2"], v["WBC"])


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
