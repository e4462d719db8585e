"""Recipes that train each imaging model on its public dataset and write a ModelPackage with a card.

Training uses only the train split; the temperature, the operating threshold and every figure on
the card come from the validation split (kept apart by patient where the data has patients).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import medai
from medai.datasets.registry import DATASETS
from medai.imaging.cohorts import Cohort, load_cohort, prepare_cases
from medai.imaging.evaluate import ImagingEvaluation, evaluate_imaging, write_imaging_report
from medai.imaging.model import ImageClassifier
from medai.imaging.overlays import saliency_png
from medai.imaging.package import export_files
from medai.imaging.tasks import ImagingTask, get_task
from medai.models import ModelCard, save_package

VERSION = "1.0.0"
SCREENING_SENSITIVITY = 0.90


@dataclass(frozen=True)
class Recipe:
    """Training settings of one task (chosen on the train split and fixed before validation)."""

    epochs: int
    batch_size: int
    learning_rate: float
    widths: tuple[int, ...] = (16, 32, 64, 128)


RECIPES: dict[str, Recipe] = {
    "pneumonia-cxr": Recipe(epochs=20, batch_size=128, learning_rate=3e-3, widths=(32, 64, 128, 256)),
    "retinamnist": Recipe(epochs=60, batch_size=64, learning_rate=2e-3, widths=(32, 64, 128, 256)),
    "dr-grade": Recipe(epochs=60, batch_size=24, learning_rate=2e-3),
    "lung-nodule-malignancy": Recipe(epochs=60, batch_size=32, learning_rate=2e-3),
    "fracture": Recipe(epochs=30, batch_size=32, learning_rate=2e-3),
}

LIMITATIONS: dict[str, list[str]] = {
    "pneumonia-cxr": ["Trained at 28 px on paediatric chest films from one centre (Guangzhou); adult films and other "
                      "sites are out of distribution.",
                      "The shared PneumoniaMNIST copy has an undersampled train split (388 normal vs 3,494 pneumonia)."],
    "retinamnist": ["28 px images keep only coarse retinal structure; the official test split is held back."],
    "dr-grade": ["Trained from scratch on 330 IDRiD images from one Indian clinic and camera; validate on local "
                 "cameras and populations before use.",
                 "Grades 1 (mild) are rare (16 train images): the 5-grade output is least reliable there."],
    "lung-nodule-malignancy": ["Labels are the source's Benign/Malign diagnosis derived from LIDC radiologist "
                               "ratings, not pathology.", "Input is a crop centred on a known nodule; the model "
                               "does not detect nodules."],
    "fracture": ["FracAtlas has no patient ids, so images of one patient may sit on both sides of the split.",
                 "Trained at 256 px: hairline fractures may be invisible at this resolution.",
                 "Boxes are not predicted; the heat map shows where the evidence lies."],
}


def _dataset_source(task: ImagingTask, n: int) -> dict:
    entry = DATASETS[task.dataset]
    return {"name": task.dataset, "citation": entry.citation, "licence": entry.licence, "n": n}


def validation_groups(cohort: Cohort) -> dict[str, list[str]] | None:
    """Subgroup labels of the validation cases (body region, nodule size, macular-edema risk)."""
    if cohort.task.dataset == "fracatlas":
        return {"region": [c.extra["region"] for c in cohort.validation],
                "hardware": ["hardware" if c.extra["hardware"] else "none" for c in cohort.validation]}
    if cohort.task.dataset == "lidc_vois":
        return {"diameter": ["<10 mm" if c.extra["diameter_mm"] < 10 else "10-20 mm" if c.extra["diameter_mm"] < 20
                             else ">=20 mm" for c in cohort.validation]}
    if cohort.task.dataset == "idrid":
        return {"macular edema risk": [str(c.extra["macular_edema_risk"]) for c in cohort.validation]}
    return None


def build_card(task: ImagingTask, cohort: Cohort, evaluation: ImagingEvaluation, threshold: float,
               plots: list[dict], epochs: int) -> ModelCard:
    """The model card from the validation evaluation."""
    source = task.dataset
    metrics = [{"name": name, "value": m["value"], "ci_low": m["ci_low"], "ci_high": m["ci_high"], "dataset": source,
                "split": "validation"} for name, m in evaluation.summary.items()]
    cal = evaluation.binary.calibration
    subgroups = [{"attribute": r.variable, "group": r.level, "n": r.n, "metric": "AUROC", "value": r.auroc.value,
                  "ci_low": r.auroc.low, "ci_high": r.auroc.high}
                 for r in evaluation.binary.subgroups if r.auroc.value == r.auroc.value]
    m = evaluation.binary.metrics
    return ModelCard.model_validate({
        "name": task.name, "version": VERSION, "task": task.title,
        "summary": f"A compact MONAI ResNet ({task.spatial_dims}D, {task.channels}-channel input of "
                   f"{'x'.join(map(str, task.size))}) trained from scratch for {epochs} epochs with augmentation; "
                   f"temperature-scaled softmax; test-time flip averaging; Grad-CAM explanations.",
        "intended_use": f"Decision support: estimates the probability of {task.finding} for a clinician reading the "
                        "image, with a heat map of the evidence. Not a replacement for the read.",
        "out_of_scope_use": ["Autonomous diagnosis", "Modalities or body sites other than the training data's",
                             "Images already processed by other AI or heavily annotated"],
        "training_data": [_dataset_source(task, len(cohort.train))],
        "evaluation_data": [{**_dataset_source(task, len(cohort.validation)), "name": source}],
        "metrics": metrics,
        "calibration": {"ece": cal.ece, "brier": cal.brier, "slope": cal.fit.slope, "intercept": cal.fit.intercept,
                        "method": "temperature scaling fitted on the validation split"} if cal else None,
        "subgroups": subgroups or None,
        "operating_point": {"threshold": threshold, "sensitivity": m.sensitivity.value, "specificity": m.specificity.value,
                            "rationale": f"lowest threshold reaching sensitivity {SCREENING_SENSITIVITY:.0%} for "
                                         f"{task.finding} on validation (screening use: misses cost most)"},
        "limitations": LIMITATIONS[task.name] + [
            "Temperature and threshold were chosen on the same validation split the metrics come from; the "
            "official test splits are held back for independent scoring."],
        "ethical_considerations": "No demographic fields exist in these image sets, so fairness across age, sex or "
                                  "ethnicity could not be measured; measure it locally before deployment.",
        "authors": ["medai contributors"],
        "licence": f"Apache-2.0; trained on data licensed {DATASETS[task.dataset].licence} (attribution in "
                   "training_data)",
        "created": datetime.now(timezone.utc).isoformat(), "medai_version": medai.__version__, "plots": plots,
    })


def train_and_package(task_name: str, root: str | Path | None, out_dir: str | Path,
                      log: Callable[[str], None] = print, epochs: int | None = None, n_boot: int = 500,
                      cache_dir: Path | None = None, threads: int = 2) -> Path:
    """Train ``task_name``, validate, and write its package to ``out_dir`` (which must not exist).

    ``threads`` is the number of PyTorch threads; use 1 on a machine busy with other work, where
    oversubscribed threads slow training far more than they help.
    """
    task = get_task(task_name)
    recipe = RECIPES[task.name]
    cohort = load_cohort(task.name, root)
    log(f"{task.name}: {len(cohort.train)} train, {len(cohort.validation)} validation, {len(cohort.skipped)} skipped")
    X, y = prepare_cases(task, cohort.train, cache_dir, log)
    X_val, y_val = prepare_cases(task, cohort.validation, cache_dir, log)
    model = ImageClassifier(task.name, epochs=epochs or recipe.epochs, batch_size=recipe.batch_size,
                            learning_rate=recipe.learning_rate, widths=recipe.widths, threads=threads, log=log)
    model.fit(X, y, X_val, y_val).calibrate(X_val, y_val)
    return package_trained(task, cohort, model, X_val, y_val, out_dir, n_boot=n_boot, log=log)


def package_trained(task: ImagingTask, cohort: Cohort, model, X_val: np.ndarray, y_val: np.ndarray,
                    out_dir: str | Path, n_boot: int = 500, log: Callable[[str], None] = print,
                    training: dict | None = None) -> Path:
    """Threshold, evaluate (bootstrap CIs, subgroups), explain and package a fitted, calibrated classifier.

    Shared by single-process and distributed training so both write the same card, plots and report;
    ``training`` (e.g. the engine and worker count) is recorded in the validation report."""
    from medai.evaluate import save_plots, threshold_for_sensitivity

    proba = model.predict_proba(X_val)
    positive = np.isin(y_val, task.positive_classes).astype(int)
    score = model.positive_probability(proba)
    threshold = float(threshold_for_sensitivity(positive, score, SCREENING_SENSITIVITY))
    evaluation = evaluate_imaging(task, y_val, proba, threshold, validation_groups(cohort), n_boot=n_boot)
    for name, metric in evaluation.summary.items():
        log(f"validation {name}: {metric['value']:.3f} ({metric['ci_low']:.3f}-{metric['ci_high']:.3f})")
    examples = saliency_examples(model, X_val, score)
    with tempfile.TemporaryDirectory() as tmp:
        paths = save_plots(tmp, positive, score, metrics=evaluation.binary.metrics, threshold=threshold)
        files: dict[str, bytes] = export_files(model, threshold)
        files.update({f"plots/{p.name}": p.read_bytes() for p in paths.values()})
        plots = [{"title": k.upper() if k in ("roc", "pr") else k.capitalize(), "file": f"plots/{p.name}"}
                 for k, p in paths.items()]
        for i, (caption, png) in enumerate(examples):
            files[f"plots/saliency_{i}.png"] = png
            plots.append({"title": f"Grad-CAM: {caption}", "file": f"plots/saliency_{i}.png"})
        report = {**evaluation.to_dict(), "history": model.history_, **({"training": training} if training else {})}
        files["validation_report.json"] = json.dumps(report).encode()
        card = build_card(task, cohort, evaluation, threshold, plots, model.epochs)
        package = save_package(out_dir, card, files)
    write_imaging_report(Path(out_dir).parent / f"{task.name}-report", evaluation, y_val, proba, examples)
    log(f"package written to {package.path}")
    return package.path


def saliency_examples(model, X: np.ndarray, score: np.ndarray) -> list[tuple[str, bytes]]:
    """Grad-CAM pictures of the validation images the model is most sure are positive."""
    picks = np.argsort(-score)[:2]
    return [(f"validation image, p={score[i]:.2f}", saliency_png(X[i], model.explain(X[i]))) for i in picks]
