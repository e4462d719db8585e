"""Validation of an imaging model: discrimination of the positive finding with CIs, calibration,
subgroups, and for graded tasks the MedMNIST-style macro AUC, accuracy and weighted kappa."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medai.imaging.tasks import ImagingTask


@dataclass
class ImagingEvaluation:
    """Everything measured on one split; ``summary`` holds plain numbers for cards and benchmarks."""

    task: ImagingTask
    binary: Any
    summary: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"task": self.task.name, "summary": self.summary, "binary": self.binary.to_dict()}


def macro_auc(y: np.ndarray, proba: np.ndarray) -> float:
    """MedMNIST's AUC: binary AUC of class 1, or the mean one-vs-rest AUC over classes."""
    from sklearn.metrics import roc_auc_score

    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    scores = [roc_auc_score(y == k, proba[:, k]) for k in range(proba.shape[1]) if 0 < (y == k).sum() < len(y)]
    return float(np.mean(scores))


def accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    """Accuracy of the most probable class (MedMNIST's ACC)."""
    return float((proba.argmax(axis=1) == y).mean())


def quadratic_kappa(y: np.ndarray, proba: np.ndarray) -> float:
    """Quadratic-weighted Cohen's kappa of the predicted grade."""
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(y, proba.argmax(axis=1), weights="quadratic"))


def evaluate_imaging(task: ImagingTask, y: np.ndarray, proba: np.ndarray, threshold: float,
                     groups: dict[str, Any] | None = None, n_boot: int = 500) -> ImagingEvaluation:
    """Evaluate class probabilities ``proba`` against labels ``y`` on one split."""
    from medai.evaluate import bootstrap_ci, evaluate

    positive = np.isin(y, task.positive_classes).astype(int)
    score = proba[:, list(task.positive_classes)].sum(axis=1)
    binary = evaluate(positive, score, threshold, title=f"{task.title}: {task.finding}", groups=groups,
                      n_boot=n_boot, min_size=20)
    summary: dict[str, dict[str, float]] = {}
    for name, est in [("AUROC", binary.metrics.auroc), ("AUPRC", binary.metrics.auprc),
                      ("Sensitivity", binary.metrics.sensitivity), ("Specificity", binary.metrics.specificity)]:
        summary[f"{name} ({task.finding})"] = {"value": est.value, "ci_low": est.low, "ci_high": est.high}
    metrics = [("ACC (argmax)", accuracy), ("AUC (MedMNIST macro)", macro_auc)]
    if len(task.classes) > 2:
        metrics.append(("Quadratic weighted kappa", quadratic_kappa))
    for name, fn in metrics:
        est = bootstrap_ci(fn, y, proba, n_boot=n_boot, strata=y)
        summary[name] = {"value": est.value, "ci_low": est.low, "ci_high": est.high}
    return ImagingEvaluation(task=task, binary=binary, summary=summary)


def write_imaging_report(out_dir: str | Path, evaluation: ImagingEvaluation, y: np.ndarray, proba: np.ndarray,
                         saliency: list[tuple[str, bytes]] = ()) -> dict[str, Path]:
    """``report.json`` + ``report.html`` (ROC, PR, calibration, subgroups, saliency examples) in ``out_dir``."""
    import json

    from medai.evaluate import Image, Section, Table, render_report, report_sections

    task = evaluation.task
    positive = np.isin(y, task.positive_classes).astype(int)
    score = proba[:, list(task.positive_classes)].sum(axis=1)
    rows = [[name, f"{m['value']:.3f} ({m['ci_low']:.3f}-{m['ci_high']:.3f})"] for name, m in evaluation.summary.items()]
    sections = [Section("Summary", tables=[Table(["Metric", "Value (95% CI)"], rows)])]
    sections += report_sections(evaluation.binary, positive, score)
    if saliency:
        sections.append(Section("Grad-CAM examples", text=["Red marks the regions that raised the predicted class."],
                                images=[Image(png, caption) for caption, png in saliency]))
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "html": folder / "report.html"}
    paths["json"].write_text(json.dumps(evaluation.to_dict(), indent=2) + "\n", encoding="utf-8")
    paths["html"].write_text(render_report(f"{task.title} — validation", *sections,
                                           meta={"Cases": len(y), "Threshold": f"{evaluation.binary.metrics.threshold:.4f}"}),
                             encoding="utf-8")
    return paths
