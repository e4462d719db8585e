"""Discrimination and threshold metrics of a binary classifier, with bootstrap confidence intervals."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from medai.evaluate._checks import binary_inputs, check_bootstrap, check_threshold, cluster_codes
from medai.evaluate._json import JsonResult
from medai.evaluate.bootstrap import Estimate, bootstrap_ci, percentile_interval, resample_counts

__all__ = ["METRICS", "METRIC_LABELS", "BinaryMetrics", "Estimate", "binary_metrics", "bootstrap_ci"]

METRIC_LABELS = {
    "auroc": "AUROC",
    "auprc": "AUPRC (average precision)",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "ppv": "PPV",
    "npv": "NPV",
    "f1": "F1",
    "prevalence": "Prevalence",
    "n": "n",
}
"""Display names of the estimates in :class:`BinaryMetrics`, in reporting order."""

METRICS = tuple(METRIC_LABELS)
"""Names of the estimates in :class:`BinaryMetrics`, in reporting order."""


@dataclass(frozen=True)
class BinaryMetrics(JsonResult):
    """Metrics of scores against binary labels; a case is called positive when ``score >= threshold``.

    Each metric is an :class:`Estimate` with a percentile bootstrap interval at level ``ci``.
    ``tp``/``fp``/``tn``/``fn`` is the confusion matrix at the threshold; ``notes`` explains every
    metric reported as NaN and every metric undefined in some resamples.
    """

    auroc: Estimate
    auprc: Estimate
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    f1: Estimate
    prevalence: Estimate
    n: Estimate
    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    n_boot: int
    ci: float
    resampling: str
    notes: tuple[str, ...] = ()

    def estimates(self) -> dict[str, Estimate]:
        """The estimates by name, in the order of :data:`METRICS`."""
        return {name: getattr(self, name) for name in METRICS}


@dataclass(frozen=True)
class _Layout:
    """Where the metrics look in a count matrix whose columns are the rows sorted by (label, score).

    Negatives come first, then positives, each by ascending score. For every positive,
    ``neg_below``/``neg_not_above`` count the negatives scored lower / not higher and ``pos_below``
    the positives scored lower; ``neg_cut``/``pos_cut`` count those scored below the threshold.
    """

    n_neg: int
    neg_below: np.ndarray
    neg_not_above: np.ndarray
    pos_below: np.ndarray
    neg_cut: int
    pos_cut: int

    @classmethod
    def build(cls, neg_scores: np.ndarray, pos_scores: np.ndarray, threshold: float) -> _Layout:
        """Layout for sorted negative and positive scores."""
        return cls(
            n_neg=neg_scores.size,
            neg_below=np.searchsorted(neg_scores, pos_scores, side="left"),
            neg_not_above=np.searchsorted(neg_scores, pos_scores, side="right"),
            pos_below=np.searchsorted(pos_scores, pos_scores, side="left"),
            neg_cut=int(np.searchsorted(neg_scores, threshold, side="left")),
            pos_cut=int(np.searchsorted(pos_scores, threshold, side="left")),
        )


def _cumulative(counts: np.ndarray) -> np.ndarray:
    """Running totals along each row with a leading 0: column ``k`` sums the first ``k`` counts."""
    out = np.zeros((counts.shape[0], counts.shape[1] + 1), dtype=np.int64)
    np.cumsum(counts, axis=1, out=out[:, 1:])
    return out


def _metric_arrays(counts: np.ndarray, layout: _Layout) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every metric, and the confusion matrix ``(tp, fp, tn, fn)``, for each row of ``counts``.

    ``counts`` (shape ``(b, n)``) says how often each sorted row is drawn in each of ``b`` resamples.
    """
    w_pos = counts[:, layout.n_neg :]
    cum_neg, cum_pos = _cumulative(counts[:, : layout.n_neg]), _cumulative(w_pos)
    n_neg, n_pos = cum_neg[:, -1], cum_pos[:, -1]
    tp, fp = n_pos - cum_pos[:, layout.pos_cut], n_neg - cum_neg[:, layout.neg_cut]
    fn, tn = n_pos - tp, n_neg - fp
    neg_below = cum_neg[:, layout.neg_below]
    with np.errstate(divide="ignore", invalid="ignore"):
        # AUROC: a positive wins against the negatives scored below it and half-wins against ties.
        wins = neg_below + cum_neg[:, layout.neg_not_above]
        auroc = 0.5 * (w_pos * wins).sum(axis=1) / (n_pos * n_neg)
        # Average precision: the precision at each positive's score, weighted by the recall it adds.
        called_tp = n_pos[:, None] - cum_pos[:, layout.pos_below]
        called = called_tp + (n_neg[:, None] - neg_below)
        precision = np.divide(called_tp, called, out=np.zeros(called.shape), where=called > 0)
        auprc = (w_pos * precision).sum(axis=1) / n_pos
        metrics = {
            "auroc": auroc,
            "auprc": auprc,
            "sensitivity": tp / n_pos,
            "specificity": tn / n_neg,
            "ppv": tp / (tp + fp),
            "npv": tn / (tn + fn),
            "f1": 2 * tp / (2 * tp + fp + fn),
            "prevalence": n_pos / (n_pos + n_neg),
            "n": (n_pos + n_neg).astype(np.float64),
        }
    return metrics, np.stack([tp, fp, tn, fn], axis=1)


def _degenerate_notes(tp: int, fp: int, tn: int, fn: int, threshold: float) -> list[str]:
    n = tp + fp + tn + fn
    notes = []
    if tp + fn == 0:
        notes.append(f"y_true holds no positive cases (n={n}): AUROC, AUPRC and sensitivity are undefined (NaN)")
    if tn + fp == 0:
        notes.append(f"y_true holds no negative cases (n={n}): AUROC and specificity are undefined (NaN)")
    if tp + fp == 0:
        notes.append(f"no score reaches the threshold {threshold:g}: PPV is undefined (NaN)")
    if tn + fn == 0:
        notes.append(f"every score reaches the threshold {threshold:g}: NPV is undefined (NaN)")
    return notes


def binary_metrics(
    y_true: Any,
    y_score: Any,
    threshold: float,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    *,
    cluster: Any = None,
    warn: bool = True,
) -> BinaryMetrics:
    """AUROC, AUPRC (average precision) and the metrics at ``score >= threshold``, with bootstrap CIs.

    The bootstrap resamples positives and negatives separately (stratified), ``n_boot`` times with
    ``seed``. Give ``cluster`` (e.g. patient ids, one per row) to resample whole clusters instead,
    stratified by whether a cluster holds any positive; otherwise rows are treated as independent.
    ``n_boot=0`` skips the intervals. Metrics undefined on the data (e.g. AUROC with one class only)
    are NaN, explained in ``notes`` and, if ``warn``, in a ``UserWarning``.
    """
    labels, scores = binary_inputs(y_true, y_score)
    threshold = check_threshold(threshold)
    check_bootstrap(n_boot, ci)
    codes = None if cluster is None else cluster_codes(cluster, labels.size)

    order = np.lexsort((scores, labels))
    scores, labels = scores[order], labels[order]
    n_neg = int(labels.size - labels.sum())
    layout = _Layout.build(scores[:n_neg], scores[n_neg:], threshold)

    point, confusion = _metric_arrays(np.ones((1, labels.size), dtype=np.int64), layout)
    tp, fp, tn, fn = (int(c) for c in confusion[0])
    notes = _degenerate_notes(tp, fp, tn, fn, threshold)

    if codes is None:
        strata, resampling = labels, "rows, stratified by outcome"
    else:
        codes = codes[order]
        has_positive = np.bincount(codes, weights=labels) > 0
        strata = has_positive[codes]
        resampling = f"clusters ({codes.max() + 1}), stratified by whether a cluster holds a positive case"
    samples = {name: np.empty(n_boot) for name in METRICS}
    done = 0
    for counts in resample_counts(labels.size, n_boot, np.random.default_rng(seed), strata=strata, cluster=codes):
        values, _ = _metric_arrays(counts, layout)
        for name in METRICS:
            samples[name][done : done + len(counts)] = values[name]
        done += len(counts)

    estimates = {}
    for name in METRICS:
        value = float(point[name][0])
        estimates[name] = Estimate(value, *percentile_interval(samples[name], ci))
        undefined = int(np.isnan(samples[name]).sum())
        if undefined and not np.isnan(value):
            notes.append(
                f"{METRIC_LABELS[name]} was undefined in {undefined} of {n_boot} bootstrap resamples; "
                "its interval uses the others"
            )
    if warn:
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=2)
    return BinaryMetrics(
        **estimates,
        threshold=threshold,
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        n_boot=n_boot,
        ci=ci,
        resampling=resampling if n_boot else "none",
        notes=tuple(notes),
    )
