"""Accuracy of weekly-dose predictions: MAE and the share within 20% of the stable dose, by dose group."""

from __future__ import annotations

import numpy as np

from medai.evaluate.bootstrap import bootstrap_ci

LOW_DOSE, HIGH_DOSE = 21.0, 49.0
"""IWPC dose groups: low <= 21 mg/week, high >= 49 mg/week."""


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error, mg/week."""
    return float(np.mean(np.abs(predicted - actual)))


def within_20(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Percentage of patients whose predicted dose is within 20% of their stable dose."""
    return float(100 * np.mean(np.abs(predicted - actual) <= 0.2 * actual))


def dose_groups(actual: np.ndarray) -> dict[str, np.ndarray]:
    """Masks of all patients and of the low and high dose groups."""
    return {"all": np.ones(len(actual), bool), "low": actual <= LOW_DOSE, "high": actual >= HIGH_DOSE}


def accuracy_row(name: str, predicted: np.ndarray, actual: np.ndarray, n_boot: int = 0) -> dict:
    """MAE and within-20% overall and per dose group (with 95% bootstrap CIs when ``n_boot`` > 0)."""
    row: dict = {"name": name}
    for group, mask in dose_groups(actual).items():
        p, a = predicted[mask], actual[mask]
        row[f"n_{group}"] = int(mask.sum())
        for metric, fn in (("mae", mae), ("within20", within_20)):
            if n_boot:
                est = bootstrap_ci(fn, p, a, n_boot=n_boot, seed=0)
                row[f"{metric}_{group}"], row[f"{metric}_{group}_ci"] = est.value, [est.low, est.high]
            else:
                row[f"{metric}_{group}"] = fn(p, a) if mask.any() else float("nan")
    return row
