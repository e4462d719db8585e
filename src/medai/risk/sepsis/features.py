"""Causal hourly features for sepsis prediction, computed incrementally.

``FeatureState.update(row)`` consumes one new hourly row (the challenge's 40 columns)
and returns that hour's feature vector in constant time: the stay is never recomputed.
Batch feature extraction runs the same state machine over a stay, so training,
batch prediction and streaming share one definition and cannot drift apart.

Hospital-specific columns (Unit1, Unit2, HospAdmTime) are deliberately not features:
they describe the training hospital's admission process, not the patient.
"""

from __future__ import annotations

import numpy as np

from medai.datasets.physionet2019 import COLUMNS
from medai.risk.sepsis.baselines import qsofa_count, sirs_count

CLINICAL = COLUMNS[:34]
VITALS = ["HR", "O2Sat", "Temp", "SBP", "MAP", "DBP", "Resp"]
LABS = [c for c in CLINICAL if c not in VITALS + ["EtCO2"]]
WINDOW_HOURS = 6
SINCE_CAP_HOURS = 72.0

_VITAL_INDEX = np.array([CLINICAL.index(v) for v in VITALS])
_LAB_INDEX = np.array([CLINICAL.index(v) for v in LABS])
_COL = {name: i for i, name in enumerate(COLUMNS)}

FEATURE_NAMES: list[str] = (
    [f"{c}" for c in CLINICAL]
    + [f"{c}__hours_since" for c in CLINICAL]
    + [f"{c}__change_{WINDOW_HOURS}h" for c in VITALS]
    + [f"{c}__max_{WINDOW_HOURS}h" for c in VITALS]
    + [f"{c}__min_{WINDOW_HOURS}h" for c in VITALS]
    + [f"{c}__change_since_previous" for c in LABS]
    + ["shock_index", "sirs_count", "qsofa_count", "Age", "Gender", "ICULOS"]
)


def base_variable(feature: str) -> str:
    """The clinical variable a feature is built from (``Lactate__change_since_previous`` -> ``Lactate``)."""
    return feature.split("__", 1)[0]


class FeatureState:
    """One patient's running state: last values, measurement times and a short vitals window."""

    def __init__(self) -> None:
        n = len(CLINICAL)
        self.last = np.full(n, np.nan)
        self.previous = np.full(n, np.nan)
        self.last_hour = np.full(n, np.nan)
        self.previous_hour = np.full(n, np.nan)
        self.window = np.full((WINDOW_HOURS + 1, len(VITALS)), np.nan)
        self.hours = 0

    def copy(self) -> "FeatureState":
        """An independent copy (to score a provisional row without committing it)."""
        clone = FeatureState.__new__(FeatureState)
        clone.last, clone.previous = self.last.copy(), self.previous.copy()
        clone.last_hour, clone.previous_hour = self.last_hour.copy(), self.previous_hour.copy()
        clone.window, clone.hours = self.window.copy(), self.hours
        return clone

    def update(self, row: np.ndarray) -> np.ndarray:
        """Take one hourly row (40 challenge columns, NaN = not measured); return its features."""
        clinical = row[:34]
        measured = ~np.isnan(clinical)
        self.previous[measured] = self.last[measured]
        self.previous_hour[measured] = self.last_hour[measured]
        self.last[measured] = clinical[measured]
        self.last_hour[measured] = self.hours
        vitals_now = self.last[_VITAL_INDEX]
        self.window = np.roll(self.window, -1, axis=0)
        self.window[-1] = vitals_now
        since = np.minimum(self.hours - self.last_hour, SINCE_CAP_HOURS)
        change = vitals_now - self.window[0]
        high = np.fmax.reduce(self.window, axis=0)  # fmax/fmin skip NaN (not yet measured)
        low = np.fmin.reduce(self.window, axis=0)
        lab_change = self.last[_LAB_INDEX] - self.previous[_LAB_INDEX]
        self.hours += 1
        return np.concatenate([self.last, since, change, high, low, lab_change, self._scores(row)])

    def _scores(self, row: np.ndarray) -> np.ndarray:
        value = {name: self.last[i] for i, name in enumerate(CLINICAL)}
        hr, sbp, resp, temp, wbc, paco2 = (value[k] for k in ("HR", "SBP", "Resp", "Temp", "WBC", "PaCO2"))
        shock = hr / sbp if sbp and not np.isnan(sbp) and sbp > 0 else np.nan
        sirs = float(sirs_count(hr=hr, temp=temp, resp=resp, paco2=paco2, wbc=wbc))
        qsofa = float(qsofa_count(resp, sbp))
        return np.array([shock, sirs, qsofa, row[_COL["Age"]], row[_COL["Gender"]], row[_COL["ICULOS"]]], dtype=float)


def stay_features(values: np.ndarray) -> np.ndarray:
    """Features for every hour of a stay (hours x features), hour t using rows <= t only."""
    state = FeatureState()
    return np.vstack([state.update(row) for row in values]) if len(values) else np.empty((0, len(FEATURE_NAMES)))
