"""Train, validate and package the Diabetes 130 readmission model (behind ``medai readmission train``).

Split by patient (``task.split``): 20% of patients for validation; of the rest, 15% of patients
("inner" patients) for early stopping of both models, the blend weight and Platt calibration, and
the remainder to fit the feature encoder (category vocabularies, diagnosis risks) and the models.
Validation patients are used only for the figures in the card.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medai.datasets.diabetes130 import Diabetes130Table
from medai.models import save_package
from medai.risk.readmission.features import Encoded, FeatureEncoder, raw_features
from medai.risk.readmission.mlp import ReadmissionMLP
from medai.risk.readmission.model import ReadmissionLightGBM, ReadmissionModel, fit_excluded_rates
from medai.risk.readmission.task import SPLIT_SEED, Split, load_cohort, split
from medai.risk.sepsis.model import blend, fit_calibration

BLEND_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
FLAGGED_FRACTION = 0.2


@dataclass
class Prepared:
    """The cohort, its outcome and split, and the encoded inner (early-stopping) and validation rows."""

    table: Diabetes130Table
    y: np.ndarray
    split: Split
    fit: Encoded
    inner: Encoded
    validation: Encoded

    def labels(self, part: str) -> np.ndarray:
        """Outcomes of ``fit``, ``inner`` or ``validation`` rows."""
        mask = {"fit": self.split.fit, "inner": self.split.early_stopping, "validation": self.split.validation}[part]
        return self.y[mask]


def prepare(table: Diabetes130Table, encoder: FeatureEncoder | None = None,
            seed: str = SPLIT_SEED) -> tuple[Prepared, FeatureEncoder]:
    """Split by patient, then fit the encoder on the fit rows only (unless one is given) and encode every part."""
    y = table.readmitted_within_30_days()
    parts = split(table, seed=seed)
    raw = raw_features(table)
    if encoder is None:
        encoder = FeatureEncoder()
        fit = encoder.fit_transform(raw.take(parts.fit), y[parts.fit])
    else:
        fit = encoder.transform_training(raw.take(parts.fit), y[parts.fit])
    return Prepared(table, y, parts, fit, encoder.transform(raw.take(parts.early_stopping)),
                    encoder.transform(raw.take(parts.validation))), encoder


def choose_blend(lgbm_p: np.ndarray, mlp_p: np.ndarray, y: np.ndarray) -> float:
    """The MLP weight (on the logit scale) with the best AUROC on the inner patients."""
    from sklearn.metrics import roc_auc_score

    return max(BLEND_WEIGHTS, key=lambda w: roc_auc_score(y, blend(lgbm_p, mlp_p, w, (0.0, 1.0))))


def train_model(table: Diabetes130Table, log: Callable[[str], None] = print, n_jobs: int = 1,
                mlp_epochs: int = 40) -> tuple[ReadmissionModel, Prepared]:
    """Fit LightGBM and the MLP, choose the blend, calibrate; return the model and the prepared data."""
    data, encoder = prepare(table)
    y_fit, y_inner = data.labels("fit"), data.labels("inner")
    log(f"{len(table)} encounters: {len(y_fit)} fit, {len(y_inner)} inner (early stopping, calibration), "
        f"{int(data.split.validation.sum())} validation; split by patient, death/hospice excluded")
    lgbm = ReadmissionLightGBM(n_jobs=n_jobs).fit(data.fit.X, y_fit, data.inner.X, y_inner)
    log(f"LightGBM: {lgbm.booster_.best_iteration} trees (early stopping on inner patients)")
    mlp = ReadmissionMLP(threads=n_jobs, max_epochs=mlp_epochs).fit(
        data.fit.X, y_fit, data.inner.X, y_inner, cardinalities=encoder.cardinalities, n_continuous=data.fit.n_numeric, log=log)
    log(f"MLP: best epoch {mlp.best_epoch_}, inner AUROC {mlp.validation_auroc_:.3f}, {mlp.fit_seconds_:.0f} s")
    lgbm_inner, mlp_inner = lgbm.predict_proba(data.inner.X), mlp.predict_proba(data.inner.X)
    weight = choose_blend(lgbm_inner, mlp_inner, y_inner)
    calibration = fit_calibration(blend(lgbm_inner, mlp_inner, weight, (0.0, 1.0)), y_inner)
    rates = fit_excluded_rates(table, data.y, ~data.split.validation_side)
    log(f"blend: MLP weight {weight} on the logit scale, then Platt calibration (both on inner patients)")
    return ReadmissionModel(encoder, lgbm, calibration, mlp, weight, rates), data


def operating_threshold(model: ReadmissionModel, data: Prepared, fraction: float = FLAGGED_FRACTION) -> float:
    """The calibrated risk above which ``fraction`` of inner patients' encounters are flagged."""
    return float(np.quantile(model.predict_encoded(data.inner), 1 - fraction))


def train_and_package(root: Path | None, out_dir: Path, log: Callable[[str], None] = print, n_boot: int = 200,
                      n_jobs: int = 1) -> Path:
    """Train on the shared Diabetes 130 encounters, validate, and write the model package to ``out_dir``."""
    from medai.evaluate import save_plots
    from medai.risk.readmission.evaluate import comparison_rows, evaluate_model

    table = load_cohort(root)
    model, data = train_model(table, log, n_jobs)
    threshold = model.threshold = operating_threshold(model, data)
    evaluation, p_val = evaluate_model(model, data, threshold, n_boot)
    log(f"validation AUROC {evaluation.metrics.auroc.value:.3f} "
        f"({evaluation.metrics.auroc.low:.3f}-{evaluation.metrics.auroc.high:.3f})")
    rows = comparison_rows(model, data, n_boot=n_boot)
    with tempfile.TemporaryDirectory() as tmp:
        files = model.save()
        model.mlp.save(Path(tmp) / "mlp")
        files.update({f"mlp/{name}": (Path(tmp) / "mlp" / name).read_bytes()
                      for name in ("weights.safetensors", "config.json", "mlp.onnx")})
        paths = save_plots(tmp, data.labels("validation"), p_val, metrics=evaluation.metrics, threshold=threshold)
        files.update({f"plots/{p.name}": p.read_bytes() for p in paths.values()})
        files["validation_report.json"] = json.dumps({"evaluation": evaluation.to_dict(), "comparison": rows}).encode()
        plots = [{"title": k.upper() if k in ("roc", "pr") else k.capitalize(), "file": f"plots/{p.name}"}
                 for k, p in paths.items()]
        card = build_card(model, data, evaluation, rows, threshold, plots)
        package = save_package(out_dir, card, files)
    log(f"package written to {package.path}")
    return package.path


DATASET = {"name": "Diabetes 130-US hospitals 1999-2008 (UCI), shared 80% of patients", "licence": "CC BY 4.0",
           "citation": "Strack B, DeShazo JP, Gennings C, et al. Impact of HbA1c measurement on hospital readmission rates: "
                       "analysis of 70,000 clinical database patient records. BioMed Res Int 2014:781670; "
                       "UCI Machine Learning Repository, doi:10.24432/C5230J",
           "url": "https://doi.org/10.24432/C5230J"}


def _metric(name: str, value: float, low: float, high: float, split_name: str) -> dict:
    return {"name": name, "value": value, "ci_low": low, "ci_high": high, "dataset": DATASET["name"], "split": split_name}


def build_card(model: ReadmissionModel, data: Prepared, evaluation, rows: list[dict], threshold: float,
               plots: list[dict]):
    """The model card: validation metrics with patient-level CIs, calibration, subgroups and the LACE comparison."""
    from datetime import datetime, timezone

    import medai
    from medai.models import ModelCard

    m, calibration = evaluation.metrics, evaluation.calibration
    where = "validation (20% of patients; patient-level bootstrap CI)"
    metrics = [_metric(label, est.value, est.low, est.high, where)
               for label, est in [("AUROC", m.auroc), ("AUPRC", m.auprc), ("Sensitivity at threshold", m.sensitivity),
                                  ("PPV at threshold", m.ppv), ("Specificity at threshold", m.specificity)]]
    metrics += [_metric(f"AUROC: {row['name']}", row["auroc"], row["auroc_low"], row["auroc_high"], where)
                for row in rows[1:]]
    subgroup_rows = [{"attribute": r.variable, "group": r.level, "n": r.n, "metric": "AUROC", "value": r.auroc.value,
                      "ci_low": r.auroc.low, "ci_high": r.auroc.high} for r in evaluation.subgroups if r.auroc.value == r.auroc.value]
    n_train = int(data.split.train.sum())
    return ModelCard.model_validate({
        "name": "readmission-diabetes", "version": "1.0.0",
        "task": "Probability of inpatient readmission within 30 days of discharge, adults with diabetes",
        "summary": "LightGBM and an embedding MLP on the encounter's recorded data, prior utilisation, the patient's earlier "
                   f"encounters in the file and ICD-9 diagnosis risks; logit blend (MLP weight {model.mlp_weight}) with Platt "
                   "calibration. Compared with the LACE index and a logistic regression.",
        "intended_use": "Ranking discharged inpatients with diabetes by their risk of 30-day readmission so that transition-of-"
                        "care resources (follow-up calls, early clinic visits) go to those at highest risk.",
        "out_of_scope_use": ["Deciding whether to discharge a patient", "Patients without diabetes (not trained on them)",
                             "Encounters ending in death or hospice (outside the outcome; they get the observed rate)",
                             "Benchmarking hospitals against each other"],
        "training_data": [{**DATASET, "name": DATASET["name"] + ", training patients (encounters)", "n": n_train}],
        "evaluation_data": [{**DATASET, "n": int(data.split.validation.sum())}],
        "metrics": metrics,
        "calibration": {"method": "Platt scaling of the blended logit on inner training patients", "ece": calibration.ece,
                        "brier": calibration.brier, "slope": calibration.fit.slope, "intercept": calibration.fit.intercept,
                        "calibration_in_the_large": calibration.fit.calibration_in_the_large},
        "subgroups": subgroup_rows,
        "operating_point": {"threshold": threshold, "sensitivity": m.sensitivity.value, "specificity": m.specificity.value,
                            "rationale": f"flags the {FLAGGED_FRACTION:.0%} highest-risk encounters of the inner training "
                                         "patients (a typical transition-of-care programme capacity)"},
        "limitations": [
            "Trained on 1999-2008 US data from 130 hospitals; practice and coding have changed since. Validate locally.",
            "Outcome is the data set's readmitted == '<30' field; encounters ending in death or hospice are excluded from "
            "training and evaluation (common practice for this data set).",
            "History features count only the patient's earlier encounters present in the scored file "
            "(encounter_id order); a file holding one encounter per patient relies on the recorded prior-visit counts.",
            "LACE is approximate here: Charlson index from three recorded diagnoses only, ED visits over the previous year.",
            "The validation AUROC depends on which patients are held out: retrained on three other random patient splits, "
            "the LightGBM recipe measured 0.680-0.690 (benchmarks/readmission.py), below this split's 0.70; expect about "
            "0.69 on new patients from the same hospitals.",
            "Explanations show the LightGBM component's TreeSHAP contributions grouped into clinical factors."],
        "ethical_considerations": "Subgroup AUROCs by age band, sex and race (as recorded) are reported; payer code is a feature "
                                  "and may encode socioeconomic status — review before use for resource allocation.",
        "authors": ["medai contributors"], "licence": "Apache-2.0; trained on data licensed CC BY 4.0 (attribution above)",
        "created": datetime.now(timezone.utc).isoformat(), "medai_version": medai.__version__, "plots": plots,
    })
