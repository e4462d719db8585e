"""Percentile bootstrap: resampling (stratified and/or by cluster) and confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from medai.errors import InvalidInput, Problem
from medai.evaluate._checks import check_bootstrap, check_same_length, cluster_codes, factorize
from medai.evaluate._json import JsonResult

MAX_CELLS = 4_000_000
"""Most resample-by-row count cells held in memory at once (bounds memory at ~32 MB per array)."""


@dataclass(frozen=True)
class Estimate(JsonResult):
    """A point estimate with the bounds of its bootstrap confidence interval (NaN when not computed)."""

    value: float
    low: float = math.nan
    high: float = math.nan

    def format(self, digits: int = 3) -> str:
        """``"0.812 (0.790-0.834)"``; an en dash stands for an undefined value or interval."""
        if math.isnan(self.value):
            return "\u2013"
        text = f"{self.value:.{digits}f}"
        if not (math.isnan(self.low) or math.isnan(self.high)):
            text += f" ({self.low:.{digits}f}\u2013{self.high:.{digits}f})"
        return text

    def __str__(self) -> str:
        return self.format()


def percentile_interval(samples: np.ndarray, ci: float) -> tuple[float, float]:
    """Equal-tailed percentile interval of bootstrap ``samples`` at level ``ci``, ignoring NaN resamples."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return math.nan, math.nan
    alpha = (1.0 - ci) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _unit_strata(strata: np.ndarray | None, units: np.ndarray, n_units: int) -> np.ndarray:
    """The stratum of each resampling unit; every row of a unit must share one stratum."""
    if strata is None:
        return np.zeros(n_units, dtype=np.intp)
    _, codes = factorize(np.asarray(strata))
    if (codes < 0).any():
        raise InvalidInput(Problem("strata", "contains missing values"))
    per_unit = np.full(n_units, -1, dtype=np.intp)
    per_unit[units] = codes
    if np.any(per_unit[units] != codes):
        raise InvalidInput(Problem("strata", "must be constant within each cluster (stratify clusters, not rows)"))
    return per_unit


def resample_counts(
    n: int,
    n_boot: int,
    rng: np.random.Generator,
    *,
    strata: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Yield blocks of bootstrap resamples as count matrices of shape ``(block, n)``.

    Entry ``[b, i]`` says how many times row ``i`` is drawn in resample ``b``. Resampling units are
    rows, or whole clusters when ``cluster`` gives integer codes ``0..k-1`` per row. With ``strata``
    the units of each stratum are resampled separately, keeping the stratum sizes fixed.
    """
    units = np.arange(n) if cluster is None else np.asarray(cluster)
    n_units = int(units.max()) + 1
    unit_strata = _unit_strata(strata, units, n_units)
    members = [np.flatnonzero(unit_strata == k) for k in np.unique(unit_strata)]
    block = max(1, min(n_boot, MAX_CELLS // max(n, n_units)))
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        draws = np.concatenate([m[rng.integers(0, m.size, size=(size, m.size))] for m in members], axis=1)
        draws += np.arange(size)[:, None] * n_units
        counts = np.bincount(draws.ravel(), minlength=size * n_units).reshape(size, n_units)
        yield counts if cluster is None else counts[:, units]


def bootstrap_ci(
    metric_fn: Callable[..., float],
    *arrays: Any,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    strata: Any = None,
    cluster: Any = None,
) -> Estimate:
    """Percentile bootstrap confidence interval of any metric ``metric_fn(*arrays) -> float``.

    Rows of all ``arrays`` (same length) are resampled together; pass ``strata`` (e.g. the labels) to
    resample within each stratum, and ``cluster`` (e.g. patient ids) to resample whole clusters so
    that rows of one patient stay together. A resample on which ``metric_fn`` raises ``ValueError``
    or returns NaN (e.g. only one class drawn) is left out of the interval.
    """
    check_bootstrap(n_boot, ci)
    if not arrays:
        raise InvalidInput(Problem("arrays", "pass at least one array for metric_fn"))
    data = [np.asarray(a) for a in arrays]
    n = check_same_length(**{f"arrays[{i}]": a for i, a in enumerate(data)})
    value = float(metric_fn(*data))
    codes = None if cluster is None else cluster_codes(cluster, n)
    if strata is not None:
        check_same_length(**{"arrays[0]": data[0], "strata": np.asarray(strata)})
    samples = np.full(n_boot, np.nan)
    rows = np.arange(n)
    done = 0
    for counts in resample_counts(n, n_boot, np.random.default_rng(seed), strata=strata, cluster=codes):
        for row_counts in counts:
            index = np.repeat(rows, row_counts)
            try:
                samples[done] = metric_fn(*(a[index] for a in data))
            except ValueError:
                pass
            done += 1
    return Estimate(value, *percentile_interval(samples, ci))
