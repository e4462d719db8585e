"""Mention-level scoring of a tagger (exact span match, conlleval-style) with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medai.datasets.iob import spans


def sentence_counts(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> np.ndarray:
    """Per sentence ``[true positives, predicted mentions, gold mentions]`` (exact span and type match)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    rows = []
    for g, p in zip(gold, predicted, strict=True):
        gold_spans, pred_spans = set(spans(tuple(g))), set(spans(tuple(p)))
        rows.append((len(gold_spans & pred_spans), len(pred_spans), len(gold_spans)))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def prf(counts: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 from summed counts (0 where undefined)."""
    tp, n_pred, n_gold = counts.sum(axis=0) if counts.ndim == 2 else counts
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f1)


def mention_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], n_boot: int = 1000,
                   seed: int = 0) -> dict[str, float | list[float] | int]:
    """Precision / recall / F1 with 95% bootstrap intervals (sentences resampled), and the counts."""
    counts = sentence_counts(gold, predicted)
    precision, recall, f1 = prf(counts)
    result: dict[str, float | list[float] | int] = {
        "precision": precision, "recall": recall, "f1": f1, "sentences": len(counts),
        "gold_mentions": int(counts[:, 2].sum()), "predicted_mentions": int(counts[:, 1].sum()),
        "true_positives": int(counts[:, 0].sum())}
    if n_boot and len(counts):
        rng = np.random.default_rng(seed)
        draws = np.array([prf(counts[rng.integers(0, len(counts), len(counts))]) for _ in range(n_boot)])
        for i, name in enumerate(("precision", "recall", "f1")):
            result[f"{name}_ci"] = [float(np.percentile(draws[:, i], 2.5)), float(np.percentile(draws[:, i], 97.5))]
    return result
