"""Input validation shared by the evaluation functions: each problem raises one clear error naming the argument."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from medai.errors import InvalidInput, Problem


def _one_dimensional(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInput(Problem(name, f"must be a 1-D array, got shape {array.shape}"))
    if array.size == 0:
        raise InvalidInput(Problem(name, "is empty"))
    return array


def _as_float(array: np.ndarray, name: str, what: str) -> np.ndarray:
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(Problem(name, f"must hold {what}, got values of dtype {array.dtype}")) from None


def _first_index(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def as_labels(values: Any, name: str = "y_true") -> np.ndarray:
    """Return binary labels as an ``int8`` array, or raise ``InvalidInput`` unless every value is 0 or 1."""
    array = _one_dimensional(values, name)
    floats = _as_float(array, name, "0/1 labels (1 = positive class)")
    missing = np.isnan(floats)
    if missing.any():
        raise InvalidInput(
            Problem(name, f"contains {int(missing.sum())} missing values (first at index {_first_index(missing)})")
        )
    bad = ~np.isin(floats, (0.0, 1.0))
    if bad.any():
        shown = ", ".join(f"{v:g}" for v in np.unique(floats[bad])[:5])
        raise InvalidInput(
            Problem(name, f"must contain only 0 and 1 (1 = positive class), found {shown}", code="value")
        )
    return floats.astype(np.int8)


def as_scores(values: Any, name: str = "y_score") -> np.ndarray:
    """Return scores as a finite ``float64`` array, or raise ``InvalidInput`` naming NaN or infinite values."""
    array = _one_dimensional(values, name)
    floats = _as_float(array, name, "numeric scores")
    for mask, what in ((np.isnan(floats), "NaN"), (np.isinf(floats), "infinite")):
        if mask.any():
            raise InvalidInput(
                Problem(
                    name,
                    f"contains {int(mask.sum())} {what} values (first at index {_first_index(mask)}); "
                    "remove or impute them before evaluating",
                    code="value",
                )
            )
    return floats


def as_probabilities(values: Any, name: str = "y_prob") -> np.ndarray:
    """Return probabilities as a ``float64`` array, or raise ``InvalidInput`` unless all lie in [0, 1]."""
    floats = as_scores(values, name)
    outside = (floats < 0.0) | (floats > 1.0)
    if outside.any():
        raise InvalidInput(
            Problem(
                name,
                f"must be probabilities in [0, 1], but {int(outside.sum())} values lie outside "
                f"(first at index {_first_index(outside)}: {floats[outside][0]:g}); "
                "calibrate or apply a sigmoid to raw scores first",
                code="value",
            )
        )
    return floats


def is_probability(scores: np.ndarray) -> bool:
    """Whether every score already lies in [0, 1] (so calibration measures apply)."""
    return bool(np.all((scores >= 0.0) & (scores <= 1.0)))


def check_same_length(**arrays: Any) -> int:
    """Return the common length of the named arrays, or raise ``InvalidInput`` saying which lengths differ."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise InvalidInput(Problem(", ".join(lengths), f"must have the same length, but {listed}"))
    return next(iter(lengths.values()))


def binary_inputs(
    y_true: Any,
    y_score: Any,
    *,
    label_name: str = "y_true",
    score_name: str = "y_score",
    probabilities: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores (probabilities in [0, 1] if asked) of equal length.

    Returns the labels as ``int8`` and the scores as ``float64`` arrays.
    """
    labels = as_labels(y_true, label_name)
    scores = as_probabilities(y_score, score_name) if probabilities else as_scores(y_score, score_name)
    check_same_length(**{label_name: labels, score_name: scores})
    return labels, scores


def missing_mask(values: np.ndarray) -> np.ndarray:
    """Which entries are missing (``None`` or NaN) in an array of any dtype."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool)
    return np.zeros(values.shape, dtype=bool)


def factorize(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Sorted distinct non-missing values as strings, and each entry's code into them (-1 where missing)."""
    missing = missing_mask(values)
    present = values[~missing]
    try:
        uniques, inverse = np.unique(present, return_inverse=True)
    except TypeError:  # mixed types in an object array
        uniques, inverse = np.unique(present.astype(str), return_inverse=True)
    codes = np.full(values.shape, -1, dtype=np.intp)
    codes[~missing] = inverse
    return [str(u) for u in uniques], codes


def cluster_codes(cluster: Any, n: int, name: str = "cluster") -> np.ndarray:
    """Integer codes ``0..k-1`` for cluster ids (e.g. patient ids), checked for length and missing values."""
    array = _one_dimensional(cluster, name)
    check_same_length(y_true=np.empty(n), **{name: array})
    _, codes = factorize(array)
    missing = codes < 0
    if missing.any():
        raise InvalidInput(
            Problem(name, f"contains {int(missing.sum())} missing ids (first at index {_first_index(missing)})")
        )
    return codes


def check_bootstrap(n_boot: int, ci: float) -> None:
    """Raise ``InvalidInput`` unless ``n_boot`` is a non-negative integer and ``ci`` lies strictly in (0, 1)."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InvalidInput(
            Problem("n_boot", f"must be a non-negative integer (0 skips the bootstrap), got {n_boot!r}")
        )
    if not 0.0 < ci < 1.0:
        raise InvalidInput(
            Problem("ci", f"must be a confidence level strictly between 0 and 1 (e.g. 0.95), got {ci!r}")
        )


def check_threshold(threshold: float, name: str = "threshold") -> float:
    """Return the threshold as a float, or raise ``InvalidInput`` if it is not a finite number."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise InvalidInput(Problem(name, f"must be a number, got {threshold!r}")) from None
    if not math.isfinite(value):
        raise InvalidInput(Problem(name, f"must be finite, got {threshold!r}"))
    return value
