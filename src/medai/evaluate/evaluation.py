"""One-call evaluation of a binary classifier: metrics, calibration and subgroups, saved as JSON and HTML."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medai import __version__
from medai.evaluate._checks import binary_inputs, is_probability
from medai.evaluate._json import JsonResult
from medai.evaluate.calibration import CalibrationSummary, calibration_summary
from medai.evaluate.metrics import METRIC_LABELS, BinaryMetrics, binary_metrics
from medai.evaluate.plots import plot_pngs
from medai.evaluate.report import Image, Section, Table, render_report
from medai.evaluate.subgroups import SubgroupRow, subgroup_table

NOT_PROBABILITIES = "scores are not probabilities in [0, 1]: calibration was not assessed"


@dataclass(frozen=True)
class EvaluationResult(JsonResult):
    """Everything :func:`evaluate` measured; ``to_dict()`` is the content of ``report.json``.

    ``calibration`` is ``None`` when the scores are not probabilities; ``subgroups`` is empty when
    no grouping variables were given (otherwise its first row is the whole data set).
    """

    title: str
    metrics: BinaryMetrics
    calibration: CalibrationSummary | None
    subgroups: tuple[SubgroupRow, ...]
    notes: tuple[str, ...]
    medai_version: str
    created: str


def evaluate(
    y_true: Any,
    y_score: Any,
    threshold: float,
    *,
    title: str = "Model evaluation",
    groups: Mapping[str, Any] | None = None,
    cluster: Any = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    n_bins: int = 10,
    min_size: int = 30,
) -> EvaluationResult:
    """Metrics with bootstrap CIs, calibration and (if ``groups``) the subgroup table of one model.

    Arguments are those of :func:`~medai.evaluate.binary_metrics`,
    :func:`~medai.evaluate.calibration_summary` and :func:`~medai.evaluate.subgroup_table`.
    """
    labels, scores = binary_inputs(y_true, y_score)
    metrics = binary_metrics(labels, scores, threshold, n_boot, seed, ci, cluster=cluster)
    probabilities = is_probability(scores)
    subgroups = (
        subgroup_table(labels, scores, groups, threshold, min_size, n_boot=n_boot, seed=seed, ci=ci, cluster=cluster)
        if groups
        else []
    )
    return EvaluationResult(
        title=title,
        metrics=metrics,
        calibration=calibration_summary(labels, scores, n_bins) if probabilities else None,
        subgroups=tuple(subgroups),
        notes=metrics.notes + (() if probabilities else (NOT_PROBABILITIES,)),
        medai_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _metrics_section(metrics: BinaryMetrics, pngs: Mapping[str, bytes]) -> Section:
    level = f"{metrics.ci:.0%}"
    text = f"A case is called positive when its score is at least {metrics.threshold:g}. "
    if metrics.n_boot:
        text += (
            f"Intervals are {level} percentile bootstrap intervals from {metrics.n_boot} resamples "
            f"(resampling {metrics.resampling})."
        )
    else:
        text += "No bootstrap intervals were computed."
    estimates = Table(
        columns=("Metric", f"Estimate ({level} CI)"),
        rows=[
            (METRIC_LABELS[name], estimate.format(0) if name == "n" else estimate)
            for name, estimate in metrics.estimates().items()
        ],
        caption="Discrimination and operating point",
    )
    confusion = Table(
        columns=("", "Outcome positive", "Outcome negative"),
        rows=[("Called positive", metrics.tp, metrics.fp), ("Called negative", metrics.fn, metrics.tn)],
        caption=f"Confusion matrix at threshold {metrics.threshold:g}",
    )
    images = [Image(pngs["roc"], "ROC curve"), Image(pngs["pr"], "Precision-recall curve")]
    return Section("Discrimination", text=[text], images=images, tables=(estimates, confusion))


def _calibration_section(calibration: CalibrationSummary, png: bytes) -> Section:
    fit = calibration.fit
    summary = Table(
        columns=("Measure", "Value"),
        rows=[
            ("ECE", calibration.ece),
            ("MCE", calibration.mce),
            ("Brier score", calibration.brier),
            ("Calibration slope", fit.slope),
            ("Calibration intercept", fit.intercept),
            ("Calibration-in-the-large", fit.calibration_in_the_large),
        ],
        caption="Calibration (ideal: ECE 0, slope 1, intercepts 0)",
    )
    curve = calibration.curve
    bins = Table(
        columns=("Bin", "n", "Mean predicted", "Observed rate"),
        rows=[
            (f"{curve.bin_edges[k]:.2f}\u2013{curve.bin_edges[k + 1]:.2f}", int(curve.count[k]),
             float(curve.mean_predicted[k]), float(curve.observed_rate[k]))
            for k in range(curve.count.size)
        ],
        caption=f"Reliability curve ({curve.strategy} bins)",
    )
    return Section("Calibration", images=[Image(png, "Calibration (reliability) plot")], tables=(summary, bins))


def _subgroup_section(rows: tuple[SubgroupRow, ...], threshold: float) -> Section:
    table = Table(
        columns=("Variable", "Level", "n", "Prevalence", "AUROC (CI)", "Sensitivity (CI)", "PPV (CI)", "ECE", "Note"),
        rows=[
            (r.variable, r.level, r.n, r.prevalence, r.auroc, r.sensitivity, r.ppv, r.ece, r.note) for r in rows
        ],
        caption=f"Performance by subgroup (threshold {threshold:g})",
    )
    return Section("Subgroups", tables=(table,))


def report_sections(result: EvaluationResult, y_true: Any, y_score: Any, n_bins: int = 10) -> list[Section]:
    """The report sections of an evaluation (discrimination, calibration, subgroups, notes), with plots."""
    pngs = plot_pngs(y_true, y_score, metrics=result.metrics, n_bins=n_bins)
    sections = [_metrics_section(result.metrics, pngs)]
    if result.calibration is not None:
        sections.append(_calibration_section(result.calibration, pngs["calibration"]))
    if result.subgroups:
        sections.append(_subgroup_section(result.subgroups, result.metrics.threshold))
    if result.notes:
        sections.append(Section("Notes", text=result.notes))
    return sections


def write_report(
    out_dir: str | Path,
    title: str,
    y_true: Any,
    y_score: Any,
    threshold: float,
    groups: Mapping[str, Any] | None = None,
    *,
    cluster: Any = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    n_bins: int = 10,
    min_size: int = 30,
) -> dict[str, Path]:
    """Evaluate (see :func:`evaluate`) and write ``report.json`` and ``report.html`` into ``out_dir``.

    Returns the two paths under the keys ``"json"`` and ``"html"``.
    """
    result = evaluate(
        y_true, y_score, threshold, title=title, groups=groups, cluster=cluster,
        n_boot=n_boot, seed=seed, ci=ci, n_bins=n_bins, min_size=min_size,
    )
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "html": folder / "report.html"}
    paths["json"].write_text(json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    meta = {
        "Cases": int(result.metrics.n.value),
        "Prevalence": result.metrics.prevalence.value,
        "Threshold": f"{threshold:g}",
        "Created": result.created,
    }
    html = render_report(title, *report_sections(result, y_true, y_score, n_bins), meta=meta)
    paths["html"].write_text(html, encoding="utf-8")
    return paths
