"""The PhysioNet/CinC Challenge 2019 normalised utility score, from its published definition.

Reyna MA et al. "Early Prediction of Sepsis From Clinical Data: The PhysioNet/Computing in
Cardiology Challenge 2019". Crit Care Med 48(2):210-217 (2020).

Every patient-hour earns a utility that depends on whether an alarm was raised and on the
hour's position relative to sepsis onset ``t_sepsis`` (first positive ``SepsisLabel`` + 6):

* septic patient, alarm (TP): rises linearly from 0 at ``t_sepsis - 12`` to ``max_u_tp`` at
  ``t_sepsis - 6`` (earlier alarms cost ``u_fp``), then falls to 0 at ``t_sepsis + 3``;
* septic patient, no alarm (FN): 0 up to ``t_sepsis - 6``, then falls to ``min_u_fn`` at
  ``t_sepsis + 3``;
* non-septic patient: ``u_fp`` per alarm (FP), ``u_tn`` per silent hour (TN);
* hours after ``t_sepsis + 3`` do not count.

The normalised score is ``(observed - inaction) / (best - inaction)``: 1 for the best
possible alarms, 0 for never alarming. Everything is vectorised over all patients at once:
each hour gets the utility it would earn with and without an alarm, so sweeping thresholds
is one sort and one cumulative sum (:func:`utility_curve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from medai.errors import InvalidInput, Problem

DT_EARLY = -12
DT_OPTIMAL = -6
DT_LATE = 3
MAX_U_TP = 1.0
MIN_U_FN = -2.0
U_FP = -0.05
U_TN = 0.0


class BestThreshold(NamedTuple):
    """The threshold with the highest normalised utility, and that utility."""

    threshold: float
    utility: float


class _Hours(NamedTuple):
    """All patients' hours laid end to end."""

    alarm: np.ndarray  # utility of each hour if an alarm is raised
    silent: np.ndarray  # utility of each hour if no alarm is raised
    best: np.ndarray  # bool: the best possible predictions
    lengths: np.ndarray


def _check_labels(labels_per_patient: Sequence[Any], name: str = "labels_per_patient") -> list[np.ndarray]:
    if isinstance(labels_per_patient, np.ndarray) and labels_per_patient.ndim == 1 and labels_per_patient.dtype != object:
        raise InvalidInput(Problem(name, "must be a sequence of per-patient label arrays, got one flat array; "
                                         "use patient_utility for a single patient"))
    arrays = []
    for i, labels in enumerate(labels_per_patient):
        array = np.asarray(labels, dtype=float)
        if array.ndim != 1:
            raise InvalidInput(Problem(f"{name}[{i}]", f"must be a 1-D array, got shape {array.shape}"))
        arrays.append(array)
    if not arrays:
        raise InvalidInput(Problem(name, "is empty"))
    flat = np.concatenate(arrays)
    if not np.all((flat == 0) | (flat == 1)):
        i = next(i for i, a in enumerate(arrays) if not np.all((a == 0) | (a == 1)))
        raise InvalidInput(Problem(f"{name}[{i}]", "must contain only 0 and 1 (SepsisLabel)", "value"))
    return [a.astype(np.int8) for a in arrays]


def _check_predictions(predictions_per_patient: Sequence[Any], lengths: np.ndarray, binary: bool,
                       name: str = "predictions_per_patient") -> np.ndarray:
    """Concatenated predictions (bool) or scores (float), each patient's length checked against its labels."""
    if len(predictions_per_patient) != len(lengths):
        raise InvalidInput(Problem(name, f"has {len(predictions_per_patient)} patients, labels have {len(lengths)}"))
    arrays = []
    for i, (values, n) in enumerate(zip(predictions_per_patient, lengths)):
        array = np.asarray(values, dtype=float)
        if array.ndim != 1 or len(array) != n:
            raise InvalidInput(Problem(f"{name}[{i}]", f"has shape {array.shape}, the patient's labels have {n} hours"))
        arrays.append(array)
    flat = np.concatenate(arrays) if arrays else np.empty(0)
    if binary and not np.all((flat == 0) | (flat == 1)):
        i = next(i for i, a in enumerate(arrays) if not np.all((a == 0) | (a == 1)))
        raise InvalidInput(Problem(f"{name}[{i}]", "must contain only 0 and 1 (1 = alarm); threshold scores first "
                                                    "or use utility_curve", "value"))
    return flat.astype(bool) if binary else flat


def _hour_utilities(labels: list[np.ndarray], dt_early: float = DT_EARLY, dt_optimal: float = DT_OPTIMAL,
                    dt_late: float = DT_LATE, max_u_tp: float = MAX_U_TP, min_u_fn: float = MIN_U_FN,
                    u_fp: float = U_FP, u_tn: float = U_TN) -> _Hours:
    lengths = np.array([len(a) for a in labels], dtype=np.int64)
    n_patients, total = len(labels), int(lengths.sum())
    flat = np.concatenate(labels) if total else np.empty(0, dtype=np.int8)
    patient = np.repeat(np.arange(n_patients), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    hour = np.arange(total) - starts[patient]

    first = np.full(n_patients, np.inf)
    positive = np.flatnonzero(flat)
    septic_ids, first_index = np.unique(patient[positive], return_index=True)
    first[septic_ids] = hour[positive[first_index]]
    t_sepsis = first - dt_optimal  # inf for non-septic patients

    septic = np.isfinite(t_sepsis)[patient]
    rel = np.where(septic, hour - np.where(np.isfinite(t_sepsis), t_sepsis, 0)[patient], -np.inf)
    counted = ~septic | (rel <= dt_late)
    early = rel <= dt_optimal

    m1 = max_u_tp / (dt_optimal - dt_early)
    b1 = -m1 * dt_early
    m2 = -max_u_tp / (dt_late - dt_optimal)
    b2 = -m2 * dt_late
    m3 = min_u_fn / (dt_late - dt_optimal)
    b3 = -m3 * dt_optimal
    with np.errstate(invalid="ignore"):
        tp = np.where(early, np.maximum(m1 * rel + b1, u_fp), m2 * rel + b2)
        fn = np.where(early, 0.0, m3 * rel + b3)
    alarm = np.where(counted, np.where(septic, tp, u_fp), 0.0)
    silent = np.where(counted, np.where(septic, fn, u_tn), 0.0)
    best = septic & (rel >= dt_early) & (rel <= dt_late)
    return _Hours(alarm, silent, best, lengths)


def _normalise(hours: _Hours, observed: float | np.ndarray) -> float | np.ndarray:
    inaction = float(hours.silent.sum())
    best = float(np.where(hours.best, hours.alarm, hours.silent).sum())
    if best == inaction:
        raise InvalidInput(Problem("labels_per_patient", "no patient is septic, so the normalised utility is undefined "
                                                         "(its denominator is 0); include septic patients", "value"))
    return (observed - inaction) / (best - inaction)


def patient_utility(labels: Any, predictions: Any) -> float:
    """The (unnormalised) utility of one patient's hourly 0/1 alarms against their SepsisLabel."""
    label_arrays = _check_labels([labels], "labels")
    hours = _hour_utilities(label_arrays)
    alarms = _check_predictions([predictions], hours.lengths, binary=True, name="predictions")
    return float(np.where(alarms, hours.alarm, hours.silent).sum())


def normalized_utility(labels_per_patient: Sequence[Any], predictions_per_patient: Sequence[Any]) -> float:
    """The challenge's normalised utility of 0/1 hourly alarms over a cohort (1 = best, 0 = never alarm)."""
    hours = _hour_utilities(_check_labels(labels_per_patient))
    alarms = _check_predictions(predictions_per_patient, hours.lengths, binary=True)
    return float(_normalise(hours, float(np.where(alarms, hours.alarm, hours.silent).sum())))


def utility_curve(labels_per_patient: Sequence[Any], scores_per_patient: Sequence[Any], thresholds: Any) -> np.ndarray:
    """Normalised utility when alarming at ``score >= threshold``, for every threshold.

    NaN scores (e.g. hours before enough data exist) never alarm. One sort of all hours, then a
    cumulative sum of the gain from alarming, so the cost hardly depends on the number of thresholds.
    """
    hours = _hour_utilities(_check_labels(labels_per_patient))
    scores = _check_predictions(scores_per_patient, hours.lengths, binary=False, name="scores_per_patient")
    grid = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or np.isnan(grid).any():
        raise InvalidInput(Problem("thresholds", "must be a non-empty 1-D array of numbers without NaN"))
    known = ~np.isnan(scores)
    order = np.argsort(scores[known], kind="stable")
    sorted_scores = scores[known][order]
    gain = (hours.alarm - hours.silent)[known][order]
    # gain from alarming on every hour at or above position i of the sorted scores
    tail = np.concatenate((np.cumsum(gain[::-1])[::-1], [0.0]))
    observed = float(hours.silent.sum()) + tail[np.searchsorted(sorted_scores, grid, side="left")]
    return np.asarray(_normalise(hours, observed), dtype=float)


def best_threshold(labels_per_patient: Sequence[Any], scores_per_patient: Sequence[Any],
                   thresholds: Any = None, max_candidates: int = 1000) -> BestThreshold:
    """The threshold maximising the normalised utility (ties: the lowest such threshold).

    Without ``thresholds``, candidates are the distinct finite scores (thinned to ``max_candidates``
    quantiles when there are more).
    """
    if thresholds is None:
        flat = np.concatenate([np.asarray(s, dtype=float).ravel() for s in scores_per_patient]) if len(scores_per_patient) else np.empty(0)
        candidates = np.unique(flat[np.isfinite(flat)])
        if candidates.size == 0:
            raise InvalidInput(Problem("scores_per_patient", "has no finite scores to take thresholds from"))
        if candidates.size > max_candidates:
            candidates = np.unique(np.quantile(candidates, np.linspace(0, 1, max_candidates)))
        thresholds = candidates
    grid = np.unique(np.asarray(thresholds, dtype=float))
    curve = utility_curve(labels_per_patient, scores_per_patient, grid)
    i = int(np.argmax(curve))
    return BestThreshold(float(grid[i]), float(curve[i]))
