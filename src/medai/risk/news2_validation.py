"""Validate NEWS2 as a sepsis early-warning score on PhysioNet 2019 hospital A and build its package.

Hourly, strictly causal: the score at hour t uses the last value of each vital measured
at or before t. Approximations forced by the data: no consciousness level (taken as
Alert), no oxygen-therapy flag (taken as room air), SpO2 scale 1 for everyone.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import medai
from medai.datasets import physionet2019
from medai.models import ModelCard, save_package
from medai.risk.news2 import News2Scorer

PSV_TO_NEWS2 = {"Resp": "respiratory_rate", "O2Sat": "oxygen_saturation", "SBP": "systolic_bp", "HR": "heart_rate",
                "Temp": "temperature"}
THRESHOLD = 5.0


def forward_fill(values: np.ndarray) -> np.ndarray:
    """Carry the last observed value forward along axis 0 (causal)."""
    filled = values.copy()
    for row in range(1, len(filled)):
        gap = np.isnan(filled[row])
        filled[row, gap] = filled[row - 1, gap]
    return filled


def hourly_scores(stay: physionet2019.PatientStay, scorer: News2Scorer) -> np.ndarray:
    """NEWS2 at every hour of a stay from forward-filled vitals (NaN before 3 parameters exist)."""
    names = list(PSV_TO_NEWS2)
    filled = forward_fill(np.column_stack([stay.column(c) for c in names]))
    return np.array([scorer.score({PSV_TO_NEWS2[c]: row[i] for i, c in enumerate(names)}) for row in filled])


def score_dataset(root: Path | None = None, limit: int | None = None) -> dict[str, np.ndarray]:
    """Hourly NEWS2, labels, patient ids and subgroup variables for hospital A."""
    scorer = News2Scorer().fit()
    parts: dict[str, list] = {k: [] for k in ("score", "label", "patient", "age band", "sex", "unit")}
    for stay in physionet2019.load(root, limit=limit):
        scores = hourly_scores(stay, scorer)
        keep = ~np.isnan(scores)
        n = int(keep.sum())
        parts["score"].append(scores[keep])
        parts["label"].append(stay.labels[keep])
        parts["patient"].append(np.full(n, stay.patient_id))
        for key, level in stay.subgroups().items():
            parts[key].append(np.full(n, level))
    return {k: np.concatenate(v) for k, v in parts.items()}


def build_package(out_dir: Path, root: Path | None = None, limit: int | None = None, n_boot: int = 200) -> Path:
    """Evaluate NEWS2 on hospital A and write the ``news2`` model package with its card and plots."""
    from medai.evaluate import evaluate, save_plots

    data = score_dataset(root, limit)
    groups = {key: data[key] for key in ("age band", "sex", "unit")}
    result = evaluate(data["label"], data["score"], THRESHOLD, title="NEWS2 vs sepsis (hourly), PhysioNet 2019 hospital A",
                      groups=groups, cluster=data["patient"], n_boot=n_boot)
    n_patients = int(len(np.unique(data["patient"])))
    dataset = {"name": "PhysioNet/CinC Challenge 2019, training set A", "licence": "CC BY 4.0", "n": n_patients,
               "citation": "Reyna MA et al. Crit Care Med 48(2):210-217 (2020); doi:10.13026/v64v-d857",
               "url": "https://physionet.org/content/challenge-2019/"}
    m = result.metrics
    metrics = [{"name": name, "value": getattr(m, key).value, "ci_low": getattr(m, key).low, "ci_high": getattr(m, key).high,
                "dataset": dataset["name"], "split": "all of set A (no fitting)"}
               for key, name in [("auroc", "AUROC (hourly, SepsisLabel)"), ("auprc", "AUPRC (hourly)"),
                                 ("sensitivity", "Sensitivity at NEWS2 >= 5"), ("specificity", "Specificity at NEWS2 >= 5"),
                                 ("ppv", "PPV at NEWS2 >= 5")]]
    subgroups = [{"attribute": row.variable, "group": row.level, "n": row.n, "metric": "AUROC", "value": row.auroc.value,
                  "ci_low": row.auroc.low, "ci_high": row.auroc.high}
                 for row in result.subgroups if row.variable != "all" and row.auroc.value == row.auroc.value]
    with tempfile.TemporaryDirectory() as tmp:
        plots = save_plots(tmp, data["label"], data["score"], metrics=m, threshold=THRESHOLD)
        files = {"news2.yaml": (Path(medai.__file__).parent / "assets/knowledge/news2.yaml").read_bytes()}
        files.update({f"plots/{path.name}": path.read_bytes() for path in plots.values()})
        card = ModelCard.model_validate({
            "name": "news2", "version": "1.0.0", "task": "Clinical deterioration early warning (adult inpatients)",
            "summary": "National Early Warning Score 2 (RCP 2017) computed from the latest vital signs, with the RCP escalation response.",
            "intended_use": "Bedside early-warning score for adult inpatients, shown to nurses and physicians to prompt review; not a diagnosis.",
            "out_of_scope_use": ["Children and pregnant women (NEWS2 is not validated for them)", "Sepsis diagnosis",
                                 "Patients with hypercapnic respiratory failure (needs SpO2 scale 2, not implemented)"],
            "training_data": [], "evaluation_data": [dataset], "metrics": metrics, "subgroups": subgroups,
            "calibration": {"note": "NEWS2 is a points score, not a probability; calibration does not apply."},
            "operating_point": {"threshold": THRESHOLD, "rationale": "RCP: aggregate score 5 or more triggers an urgent clinical response.",
                                "sensitivity": m.sensitivity.value, "specificity": m.specificity.value},
            "limitations": ["Consciousness level and supplemental oxygen are not in most feeds: taken as Alert and room air, which under-scores sick patients.",
                            "Validated here against the challenge's SepsisLabel (sepsis-3 onset shifted 6 h earlier) in ICU patients, where NEWS2 was not designed to discriminate sepsis.",
                            "Hospital A of the challenge only; performance elsewhere will differ."],
            "ethical_considerations": "A rule score with fixed bands: subgroup AUROCs are reported so that differences by age, sex and unit are visible.",
            "authors": ["medai contributors"], "licence": "Apache-2.0 (NEWS2 chart: Royal College of Physicians, reproduced as data with acknowledgement)",
            "created": datetime.now(timezone.utc).isoformat(), "medai_version": medai.__version__,
            "plots": [{"title": key.upper() if key != "calibration" else "Calibration", "file": f"plots/{path.name}"} for key, path in plots.items()],
        })
        package = save_package(out_dir, card, files)
    return package.path
