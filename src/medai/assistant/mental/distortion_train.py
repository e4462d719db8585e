"""Train and validate the distortion detector on the shared Shreevastava & Foltz (2021) statements.

Split: :func:`medai.datasets.cognitive_distortions.split` (80/20 stratified, identical statements on one
side). The regularisation strengths are chosen by 5-fold cross-validation on the training part only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from medai import __version__
from medai.assistant.mental.distortions import MODEL_NAME, VERSION, DistortionDetector, package_files
from medai.assistant.safety.embed import embed
from medai.datasets import cognitive_distortions as data
from medai.evaluate.bootstrap import bootstrap_ci
from medai.models import DataSource, Metric, ModelCard, OperatingPoint, save_package

PAPER = {"source": "Shreevastava S, Foltz P. CLPsych 2021, Sentence-BERT + SVM (their best model)",
         "detection_f1": 0.79,
         "classification_weighted_f1": None,
         "note": "Detection F1 0.79 is the paper's abstract figure. Its ten-type classification figure could not "
                 "be read from the public text available offline, so no anchor is shown for it."}
DATASET = "Shreevastava & Foltz 2021 cognitive distortions (shared 80%)"


def embedded_splits(root: str | Path | None = None, cache_dir: str | Path | None = None):
    """``(X_train, rows_train, X_val, rows_val)``: the shared statements embedded, split as documented."""
    rows = data.load(root)
    X = embed([r.text for r in rows], cache_dir=cache_dir)
    index = {id(r): i for i, r in enumerate(rows)}
    train, validation = data.split(rows)
    return (X[[index[id(r)] for r in train]], train, X[[index[id(r)] for r in validation]], validation)


def _cv_C(X: np.ndarray, y: np.ndarray, scoring: str) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {C: cross_val_score(LogisticRegression(C=C, class_weight="balanced", max_iter=2000), X, y, cv=folds,
                                 scoring=scoring).mean() for C in (0.1, 0.3, 1.0, 3.0, 10.0)}
    return max(scores, key=scores.get)


def fit_detector(X: np.ndarray, rows: list[data.DistortionExample]) -> DistortionDetector:
    """Fit on training rows, with C for each probe chosen by cross-validation on those rows."""
    distorted = np.array([r.distorted for r in rows])
    types = np.array([r.dominant for r in rows])
    C_binary = _cv_C(X, distorted.astype(int), "f1")
    C_type = _cv_C(X[distorted], types[distorted], "f1_weighted")
    threshold = _cv_threshold(X, distorted.astype(int), C_binary)
    return DistortionDetector(C_binary=C_binary, C_type=C_type, threshold=threshold).fit(X, distorted, types)


def _cv_threshold(X: np.ndarray, y: np.ndarray, C: float) -> float:
    """The detection threshold with the best F1 on 5-fold out-of-fold probabilities of the training rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(LogisticRegression(C=C, class_weight="balanced", max_iter=2000), X, y, cv=folds,
                            method="predict_proba")[:, 1]
    grid = np.round(np.arange(0.2, 0.71, 0.02), 2)
    return float(grid[int(np.argmax([f1_score(y, oof >= t) for t in grid]))])


def evaluate_detector(detector: DistortionDetector, X: np.ndarray, rows: list[data.DistortionExample],
                      n_boot: int = 1000) -> dict:
    """Binary F1, ten-type macro/weighted F1 (on distorted statements) and 11-class weighted F1, with 95% CIs."""
    from sklearn.metrics import f1_score

    gold = np.array([r.distorted for r in rows])
    predicted = detector.predict(X)
    types = np.array([r.dominant for r in rows])
    predicted_types = detector.predict_type(X)
    eleven = np.where(predicted, predicted_types, data.NONE)

    def estimate(fn, *arrays):
        e = bootstrap_ci(fn, *arrays, n_boot=n_boot, seed=7)
        return {"value": e.value, "ci_low": e.low, "ci_high": e.high}

    mask = gold
    return {
        "n_validation": len(rows), "n_distorted": int(gold.sum()),
        "detection_f1": estimate(lambda g, p: f1_score(g, p), gold, predicted),
        "type_macro_f1": estimate(lambda g, p: f1_score(g, p, average="macro"), types[mask], predicted_types[mask]),
        "type_weighted_f1": estimate(lambda g, p: f1_score(g, p, average="weighted"), types[mask], predicted_types[mask]),
        "eleven_class_weighted_f1": estimate(lambda g, p: f1_score(g, p, average="weighted"), types, eleven),
        "C_binary": detector.C_binary, "C_type": detector.C_type, "threshold": detector.threshold,
    }


def _card(n_train: int, n_val: int, metrics: dict) -> ModelCard:
    info = data.ENTRY
    train = DataSource(name=DATASET, citation=info.citation, licence=info.licence, n=n_train)
    val = DataSource(name=f"{DATASET}, validation split", citation=info.citation, licence=info.licence, n=n_val)
    names = {"detection_f1": "F1, distorted vs not", "type_macro_f1": "Macro F1, ten types (distorted statements)",
             "type_weighted_f1": "Weighted F1, ten types (distorted statements)",
             "eleven_class_weighted_f1": "Weighted F1, ten types + none"}
    split = "validation (20%, stratified on the dominant distortion, identical texts together)"
    return ModelCard(
        name=MODEL_NAME, version=VERSION, task="Cognitive-distortion detection and typing in a patient's written thought",
        summary="Logistic regression on all-MiniLM-L6-v2 sentence embeddings: a binary detector (distorted vs not) "
                "and a ten-type classifier trained on the distorted statements; C chosen by 5-fold CV on the "
                f"training part. Paper anchor: detection F1 {PAPER['detection_f1']} (Sentence-BERT + SVM).",
        intended_use="Suggest likely thinking traps in a CBT thought record; the user confirms or rejects the suggestion.",
        out_of_scope_use=["Diagnosis or assessment of any mental disorder", "Crisis or risk detection",
                          "Automated feedback without the user's confirmation"],
        training_data=[train], evaluation_data=[val],
        metrics=[Metric(name=names[key], value=metrics[key]["value"], ci_low=metrics[key]["ci_low"],
                        ci_high=metrics[key]["ci_high"], dataset=val.name, split=split) for key in names],
        operating_point=OperatingPoint(threshold=metrics["threshold"], rationale="Best F1 on 5-fold out-of-fold "
                                       "probabilities of the training part (validation untouched); the user confirms "
                                       "every suggestion."),
        limitations=["About 1,600 training statements; rarer types (all-or-nothing, should statements) are learned "
                     "from fewer than 70 examples each.",
                     "Annotations have one dominant label although statements often hold several distortions.",
                     "English only; statements are questions posted to an online therapy service (Therapist Q&A).",
                     "Ten-type accuracy is modest: present the top three, never a single verdict."],
        ethical_considerations="Suggestions label a person's thinking; they are phrased as questions and the user "
                               "decides. Training texts are not shipped.",
        authors=["medai contributors"], licence=f"Apache-2.0 (model); training data: {info.licence}",
        created=datetime.now(UTC), medai_version=__version__)


def train_and_package(root: str | Path | None, out: str | Path, cache_dir: str | Path | None = None,
                      log: Callable[[str], None] = print, n_boot: int = 1000) -> tuple[Path, dict]:
    """Fit on the training part, validate, and save the package to ``out``; returns (path, metrics)."""
    X_train, train, X_val, validation = embedded_splits(root, cache_dir)
    detector = fit_detector(X_train, train)
    metrics = evaluate_detector(detector, X_val, validation, n_boot=n_boot)
    log(f"distortions: train {len(train)}, validation {len(validation)}; detection F1 "
        f"{metrics['detection_f1']['value']:.3f}, type weighted F1 {metrics['type_weighted_f1']['value']:.3f}")
    path = save_package(out, _card(len(train), len(validation), metrics), package_files(detector)).path
    return path, metrics
