"""``medai sepsis evaluate``: the shipped model beside qSOFA, SIRS and NEWS2 on the validation split, as JSON + HTML."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from medai.risk.sepsis.baselines import BASELINES
from medai.risk.sepsis.evaluate import evaluate_scores, subgroups_of, utility_plot_png
from medai.risk.sepsis.predict import load_shipped_model
from medai.risk.sepsis.task import load_cohort, split_stays


def comparison_rows(stays, model) -> tuple[list[dict], list[np.ndarray], list[np.ndarray]]:
    """Utility, AUROC, AUPRC, alert burden and lead time of the model and each clinical baseline on ``stays``."""
    labels = [s.labels for s in stays]
    model_scores = [model.predict_stay(s.values) for s in stays]
    rows = [evaluate_scores("medai sepsis-ews", labels, model_scores, model.threshold, model.policy.suppression_hours).row()]
    for name, (score, threshold) in BASELINES.items():
        rows.append(evaluate_scores(f"{name} >= {threshold}", labels, [score(s) for s in stays], threshold,
                                    model.policy.suppression_hours).row())
    return rows, labels, model_scores


def evaluation_report(root: Path | None, out_dir: Path, n_boot: int = 200) -> tuple[list[dict], dict[str, Path]]:
    """Write ``report.json`` and ``report.html`` for the validation split; return the comparison rows and paths."""
    from medai.evaluate import Image, Section, Table, evaluate, render_report, report_sections

    model = load_shipped_model()
    _, validation = split_stays(load_cohort(root))
    rows, labels, scores = comparison_rows(validation, model)
    y, p = np.concatenate(labels), np.concatenate(scores)
    patients = np.concatenate([np.full(len(s.values), s.patient_id) for s in validation])
    result = evaluate(y, p, model.threshold, groups=subgroups_of(validation), cluster=patients, n_boot=n_boot,
                      title="medai sepsis-ews on PhysioNet 2019 hospital A, validation split")
    columns = ["model", "utility", "AUROC", "AUPRC", "alerts / 100 patient-days", "median lead time (h)", "patients alerted"]
    table_rows = [[r["name"], f"{r['utility']:.3f}", f"{r['auroc']:.3f}", f"{r['auprc']:.3f}", f"{r['alerts_per_100_patient_days']:.1f}",
                   "-" if r["median_lead_time_hours"] is None else f"{r['median_lead_time_hours']:.1f}",
                   f"{r['patient_sensitivity']:.2f}"] for r in rows]
    comparison = Section("Model and clinical baselines", text=("Same patients and hours; baselines at their conventional thresholds.",),
                         tables=(Table(columns, table_rows),),
                         images=(Image(utility_plot_png(labels, scores, model.threshold), "Utility vs threshold"),))
    out_dir.mkdir(parents=True, exist_ok=True)
    html = render_report(result.title, comparison, *report_sections(result, y, p))
    paths = {"json": out_dir / "report.json", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps({"comparison": rows, "model": result.to_dict()}, indent=1))
    paths["html"].write_text(html, encoding="utf-8")
    return rows, paths
