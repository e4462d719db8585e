"""Validation of readmission scores: discrimination with patient-level bootstrap CIs, calibration, subgroups.

``comparison_rows`` puts the shipped blend beside its two components, the LACE index (the clinical
anchor) and a logistic-regression baseline, all on the same validation encounters. Each score
except the shipped model's is mapped to a probability by Platt scaling on the inner patients, so
every row's calibration slope is measured the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from medai.evaluate import EvaluationResult, PlattRecalibrator, binary_metrics, calibration_slope_intercept, evaluate
from medai.risk.readmission.lace import lace_scores
from medai.risk.readmission.model import LogisticBaseline, ReadmissionModel
from medai.risk.readmission.task import subgroups
from medai.risk.readmission.train import Prepared, operating_threshold, prepare


def _platt(inner_score: np.ndarray, y_inner: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Map a score to probabilities with Platt scaling fitted on the inner patients (scores rescaled into (0, 1))."""
    low, high = min(inner_score.min(), score.min()), max(inner_score.max(), score.max())
    squash = (lambda s: (s - low + 0.5) / (high - low + 1.0)) if (low < 0 or high > 1) else (lambda s: s)
    return PlattRecalibrator().fit(squash(inner_score), y_inner).transform(squash(score))


def score_row(name: str, y: np.ndarray, p: np.ndarray, patients: np.ndarray, threshold: float, n_boot: int) -> dict:
    """AUROC and AUPRC with patient-level bootstrap CIs, and the calibration slope/intercept, of one score."""
    metrics = binary_metrics(y, p, threshold, n_boot, cluster=patients, warn=False)
    fit = calibration_slope_intercept(y, p)
    return {"name": name, "auroc": metrics.auroc.value, "auroc_low": metrics.auroc.low, "auroc_high": metrics.auroc.high,
            "auprc": metrics.auprc.value, "auprc_low": metrics.auprc.low, "auprc_high": metrics.auprc.high,
            "calibration_slope": fit.slope, "calibration_intercept": fit.intercept, "n": int(len(y)),
            "positives": int(y.sum())}


def comparison_scores(model: ReadmissionModel, data: Prepared) -> dict[str, np.ndarray]:
    """Validation probabilities of the shipped blend, each component, LACE and the logistic baseline."""
    y_inner = data.labels("inner")
    inner, validation = model.component_scores(data.inner), model.component_scores(data.validation)
    scores = {"Shipped: LightGBM + MLP blend, calibrated": model.predict_encoded(data.validation),
              "LightGBM alone": _platt(inner["lightgbm"], y_inner, validation["lightgbm"])}
    if "mlp" in inner:
        scores["MLP (embeddings) alone"] = _platt(inner["mlp"], y_inner, validation["mlp"])
    lace = lace_scores(data.table).astype(float)
    scores["LACE index (anchor)"] = _platt(lace[data.split.early_stopping], y_inner, lace[data.split.validation])
    baseline = LogisticBaseline().fit(data.fit.X, data.labels("fit"), cardinalities=model.encoder.cardinalities,
                                      n_continuous=data.fit.n_numeric)
    scores["Logistic regression baseline"] = _platt(baseline.predict_proba(data.inner.X), y_inner,
                                                    baseline.predict_proba(data.validation.X))
    return scores


def comparison_rows(model: ReadmissionModel, data: Prepared, n_boot: int = 200) -> list[dict]:
    """One row per score (see :func:`comparison_scores`) on the validation encounters."""
    y, patients = data.labels("validation"), data.table["patient_nbr"][data.split.validation]
    threshold = operating_threshold(model, data)
    return [score_row(name, y, p, patients, threshold, n_boot) for name, p in comparison_scores(model, data).items()]


def evaluate_model(model: ReadmissionModel, data: Prepared, threshold: float, n_boot: int = 200) -> tuple[EvaluationResult, np.ndarray]:
    """The shipped model on validation: metrics with patient-level CIs, calibration, subgroups (age band, sex, race)."""
    validation = data.table.take(data.split.validation)
    p = model.predict_encoded(data.validation)
    result = evaluate(data.labels("validation"), p, threshold, groups=subgroups(validation), cluster=validation["patient_nbr"],
                      n_boot=n_boot, title="30-day readmission (Diabetes 130), validation patients")
    return result, p


def evaluation_report(model: ReadmissionModel, root: Path | None, out: Path, n_boot: int = 200) -> tuple[list[dict], dict[str, Path]]:
    """Evaluate an installed model on the validation patients: report.json/.html and comparison.json in ``out``."""
    from medai.evaluate import write_report
    from medai.risk.readmission.task import load_cohort

    data, _ = prepare(load_cohort(root), model.encoder)
    validation = data.table.take(data.split.validation)
    threshold = operating_threshold(model, data)
    paths = write_report(out, "30-day readmission (Diabetes 130), validation patients", data.labels("validation"),
                         model.predict_encoded(data.validation), threshold, groups=subgroups(validation),
                         cluster=validation["patient_nbr"], n_boot=n_boot)
    rows = comparison_rows(model, data, n_boot)
    paths["comparison"] = Path(out) / "comparison.json"
    paths["comparison"].write_text(json.dumps({"model": model.identity.model_dump(), "rows": rows}, indent=1))
    return rows, paths
