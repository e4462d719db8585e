"""Performance by subgroup (sex, age band, site, ...), so that no group's results hide in the average."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from medai.errors import InvalidInput, Problem
from medai.evaluate._checks import binary_inputs, check_same_length, cluster_codes, factorize, is_probability
from medai.evaluate._json import JsonResult
from medai.evaluate.bootstrap import Estimate
from medai.evaluate.calibration import expected_calibration_error
from medai.evaluate.metrics import binary_metrics

OVERALL = "overall"
"""The ``variable`` and ``level`` of the row describing the whole data set."""

MISSING = "missing"
"""The level of rows whose group value is missing (``None`` or NaN)."""


@dataclass(frozen=True)
class SubgroupRow(JsonResult):
    """Performance in one level of one grouping variable; ``note`` says why a metric is NaN."""

    variable: str
    level: str
    n: int
    n_positive: int
    prevalence: float
    auroc: Estimate
    sensitivity: Estimate
    ppv: Estimate
    ece: float
    note: str = ""


def _row(
    variable: str,
    level: str,
    labels: np.ndarray,
    scores: np.ndarray,
    cluster: np.ndarray | None,
    threshold: float,
    min_size: int,
    options: dict[str, Any],
) -> SubgroupRow:
    n, n_positive = labels.size, int(labels.sum())
    prevalence = n_positive / n
    if n < min_size:
        undefined = Estimate(math.nan)
        note = f"n={n} is below min_size={min_size}: metrics not estimated"
        return SubgroupRow(variable, level, n, n_positive, prevalence, undefined, undefined, undefined, math.nan, note)
    metrics = binary_metrics(labels, scores, threshold, cluster=cluster, warn=False, **options)
    notes = list(metrics.notes)
    if is_probability(scores):
        ece = expected_calibration_error(labels, scores)
    else:
        ece = math.nan
        notes.append("scores are not probabilities: ECE not computed")
    return SubgroupRow(
        variable=variable,
        level=level,
        n=n,
        n_positive=n_positive,
        prevalence=prevalence,
        auroc=metrics.auroc,
        sensitivity=metrics.sensitivity,
        ppv=metrics.ppv,
        ece=ece,
        note="; ".join(notes),
    )


def subgroup_table(
    y_true: Any,
    y_score: Any,
    groups: Mapping[str, Any],
    threshold: float,
    min_size: int = 30,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    cluster: Any = None,
) -> list[SubgroupRow]:
    """One row for the whole data set, then one per level of each grouping variable in ``groups``.

    ``groups`` maps a variable name to one value per row (missing values form the level
    ``"missing"``). Levels with fewer than ``min_size`` rows are kept, with NaN metrics and a note.
    AUROC, sensitivity and PPV (at ``score >= threshold``) carry bootstrap intervals as in
    :func:`~medai.evaluate.binary_metrics`, resampling ``cluster`` ids when given.
    """
    labels, scores = binary_inputs(y_true, y_score)
    codes = None if cluster is None else cluster_codes(cluster, labels.size)
    options = {"n_boot": n_boot, "seed": seed, "ci": ci}
    rows = [_row(OVERALL, OVERALL, labels, scores, codes, threshold, min_size, options)]
    for variable, values in groups.items():
        array = np.asarray(values)
        if array.ndim != 1:
            raise InvalidInput(Problem(f"groups[{variable!r}]", f"must be 1-D, got shape {array.shape}"))
        check_same_length(y_true=labels, **{f"groups[{variable!r}]": array})
        levels, level_codes = factorize(array)
        named = [(level, level_codes == k) for k, level in enumerate(levels)]
        if (level_codes < 0).any():
            named.append((MISSING, level_codes < 0))
        for level, mask in named:
            subset = None if codes is None else codes[mask]
            rows.append(_row(str(variable), level, labels[mask], scores[mask], subset, threshold, min_size, options))
    return rows
