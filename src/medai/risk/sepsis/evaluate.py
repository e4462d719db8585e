"""Evaluation of sepsis scores on stays: challenge utility, discrimination with CIs, alerts, lead time, subgroups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medai.datasets.physionet2019 import PatientStay
from medai.risk.sepsis.alerting import AlertPolicy, alerts_per_100_patient_days, median_lead_time, sensitivity_by_patient
from medai.risk.sepsis.utility import normalized_utility, utility_curve


@dataclass
class SepsisEvaluation:
    """One model's figures on one set of stays."""

    name: str
    utility: float
    auroc: float
    auprc: float
    alerts_per_100_patient_days: float
    median_lead_time_hours: float
    patient_sensitivity: float
    threshold: float

    def row(self) -> dict:
        """A JSON-ready table row."""
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in self.__dict__.items()}


def subgroups_of(stays: list[PatientStay]) -> dict[str, np.ndarray]:
    """Per-row subgroup labels: age band, sex and ICU unit (from the challenge's columns)."""
    per_stay = [s.subgroups() for s in stays]
    return {key: np.concatenate([np.full(len(s.values), g[key]) for s, g in zip(stays, per_stay)])
            for key in ("age band", "sex", "unit")}


def evaluate_scores(name: str, labels: list[np.ndarray], scores: list[np.ndarray], threshold: float,
                    suppression_hours: float = 0.0) -> SepsisEvaluation:
    """Utility at ``threshold`` (every hour above it counts, as the challenge scores) and the alert metrics under a policy."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, p = np.concatenate(labels), np.concatenate(scores)
    flags = [s >= threshold for s in scores]
    policy = AlertPolicy(threshold=threshold, suppression_hours=suppression_hours)
    notified = [policy.alert_flags(s) for s in scores] if suppression_hours else flags
    return SepsisEvaluation(name, float(normalized_utility(labels, [f.astype(int) for f in flags])), float(roc_auc_score(y, p)),
                            float(average_precision_score(y, p)), float(alerts_per_100_patient_days(notified)),
                            float(median_lead_time(labels, flags)), float(sensitivity_by_patient(labels, flags)), float(threshold))


def utility_plot_png(labels: list[np.ndarray], scores: list[np.ndarray], chosen: float) -> bytes:
    """PNG of normalised utility against threshold, with the chosen operating point marked."""
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    thresholds = np.geomspace(0.002, 0.6, 120)
    curve = utility_curve(labels, scores, thresholds)
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=110)
    ax.plot(thresholds, curve, color="#1f5f8b")
    ax.axvline(chosen, color="#c0392b", linestyle="--", label=f"operating threshold {chosen:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("threshold on calibrated risk (log scale)")
    ax.set_ylabel("normalised utility")
    ax.set_title("PhysioNet 2019 utility vs threshold")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
