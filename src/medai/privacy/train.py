"""Train the ``deid-tagger`` package on the shared half of the PhysioNet deid corpus.

Patients are split 70/30 into train and dev (``split_patients``). Thresholds are chosen by
patient-grouped cross-validation inside train (never on dev), the tagger is fitted on all of
train, and the card reports dev figures (with bootstrap CIs over notes) next to the
cross-validation figures. Dev notes never reach ``fit``.

    MEDAI_DATA_DIR=/path/to/datasets OMP_NUM_THREADS=1 python -m medai.privacy.train --out DIR
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import medai
from medai.datasets.physionet_deid import DeidNote, load, split_patients
from medai.models import ModelCard, save_package
from medai.privacy.evaluate import GOLD_TYPES, DeidEvaluation, clinical_words, evaluate_corpus
from medai.privacy.phi import merge_spans
from medai.privacy.rules import RuleDetector
from medai.privacy.features import tokenize
from medai.privacy.sequence import DeidSequenceTagger, head_proba, train_head
from medai.privacy.tagger import MODEL_NAME, hinted_tokens

DATASET = {"name": "PhysioNet deid gold-standard nursing notes (shared half)", "licence": "GPL-2.0 (PhysioNet deid package)",
           "citation": "Neamatullah I et al. Automated de-identification of free-text medical records. BMC Med Inform "
                       "Decis Mak 8:32 (2008)", "url": "https://physionet.org/content/deidentifiedmedicaltext/1.0/"}
THRESHOLDS = (0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05)
HINTED = (0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02)


def gold_spans(notes: Sequence[DeidNote]) -> list[list[tuple[int, int, str]]]:
    """Gold spans as (start, end, medai type)."""
    return [[(s.start, s.end, GOLD_TYPES.get(s.category, "ID")) for s in n.spans] for n in notes]


class _Scored:
    """Per-note token probabilities and rule hits, so thresholds can be swept cheaply."""

    def __init__(self, spans_from_proba, notes: Sequence[DeidNote], probas: dict, rules: RuleDetector):
        self.notes, self.spans_from_proba = list(notes), spans_from_proba
        self.cache = {}
        for note in self.notes:
            hits = rules.find(note.text)
            tokens, proba = probas[note.id]
            standalone = [h for h in hits if rules.is_standalone(h)]
            self.cache[note.id] = (tokens, proba, standalone, hinted_tokens(tokens, rules.weak_hits(hits)))

    def predictions(self, threshold: float, hinted_threshold: float) -> dict:
        out = {}
        for note in self.notes:
            tokens, proba, standalone, hinted = self.cache[note.id]
            spans = self.spans_from_proba(note.text, tokens, proba, threshold, hinted, hinted_threshold, bounds=standalone)
            out[note.id] = merge_spans(standalone + spans, note.text)
        return out


def choose_thresholds(scored: _Scored, notes: Sequence[DeidNote], min_precision: float = 0.8) -> tuple[float, float, dict]:
    """The (threshold, hinted) pair with the best phrase recall whose span precision stays at or
    above ``min_precision`` (else the most precise pair), on out-of-fold probabilities."""
    table = {}
    for t in THRESHOLDS:
        for h in HINTED:
            if h <= t:
                table[(t, h)] = evaluate_corpus(notes, scored.predictions(t, h)).overall.metrics()
    ok = [(m["phrase_recall"], m["span_precision"], k) for k, m in table.items() if (m["span_precision"] or 0) >= min_precision]
    best = max(ok)[2] if ok else max(table, key=lambda k: table[k]["span_precision"] or 0)
    return best[0], best[1], {f"{t}/{h}": m for (t, h), m in table.items()}


def oof_head_probas(model: DeidSequenceTagger, notes: Sequence[DeidNote], prepared: tuple, log=print) -> dict:
    """Out-of-fold head probabilities on the training notes (patient-grouped folds)."""
    inputs, labels, _ = prepared
    patients = sorted({n.patient for n in notes})
    probas = {}
    for k in range(model.n_folds):
        held = set(patients[k::model.n_folds])
        fit = [i for i, n in enumerate(notes) if n.patient not in held]
        state = train_head([inputs[i] for i in fit], [labels[i] for i in fit], model.hidden, model.epochs,
                           model.phi_weight, seed=model.seed)
        for i, note in enumerate(notes):
            if note.patient in held:
                probas[note.id] = (tokenize(note.text), head_proba(state, model.hidden, inputs[i]))
        log(f"head fold {k + 1}/{model.n_folds} fitted")
    return probas


def bootstrap_ci(notes: Sequence[DeidNote], predictions: dict, metric: str, n_boot: int = 200, seed: int = 0
                 ) -> tuple[float, float]:
    """95% percentile interval of an overall metric, resampling notes."""
    rng = np.random.default_rng(seed)
    per_note = [evaluate_corpus([n], predictions) for n in notes]
    values = []
    for _ in range(n_boot):
        total = DeidEvaluation()
        for i in rng.integers(0, len(notes), len(notes)):
            total.overall.add(per_note[i].overall)
        value = total.overall.metrics()[metric]
        if value is not None:
            values.append(value)
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def build_card(tagger: DeidSequenceTagger, train: Sequence[DeidNote], dev: Sequence[DeidNote], evaluation: DeidEvaluation,
               cis: dict, cv: dict) -> ModelCard:
    """The model card: dev metrics with CIs, per-type recall, the chosen thresholds."""
    split = "dev (30% of shared patients, never fitted)"
    metrics = [{"name": name, "value": evaluation.overall.metrics()[key], "ci_low": cis[key][0], "ci_high": cis[key][1],
                "dataset": DATASET["name"], "split": split}
               for name, key in [("PHI phrase recall (rules + tagger)", "phrase_recall"),
                                 ("PHI token recall", "token_recall"), ("Span precision", "span_precision"),
                                 ("Token precision", "token_precision")]]
    over = evaluation.over_redaction or 0.0
    metrics.append({"name": "Over-redaction of clinical words", "value": over, "ci_low": over, "ci_high": over,
                    "dataset": DATASET["name"], "split": split + "; point estimate"})
    subgroups = [{"attribute": "PHI type", "group": kind, "n": c.gold_phrases, "metric": "phrase recall",
                  "value": c.metrics()["phrase_recall"]} for kind, c in sorted(evaluation.by_type.items()) if c.gold_phrases]
    n_train = len({n.patient for n in train})
    return ModelCard.model_validate({
        "name": MODEL_NAME, "version": tagger.version,
        "task": "Token-level PHI tagging for de-identification of clinical free text (HIPAA Safe Harbor)",
        "summary": "A bidirectional LSTM over all-MiniLM-L6-v2 token embeddings and the out-of-fold logits of a "
                   "multinomial logistic regression on hashed token features (word, shape, affixes, census name and "
                   "GeoNames place lists, ICD-10-CM words, hits of the rules in rules.yaml, three tokens of context). "
                   "It runs beside the standalone rules; tokens a weak rule points at need a lower probability.",
        "intended_use": "Finding names, locations, dates, ages over 89 and other identifiers in clinical notes before "
                        "they leave the covered entity, together with medai's rules and a human spot check.",
        "out_of_scope_use": ["Certifying a data set as de-identified without review (recall is below 100%)",
                             "Languages other than English", "Document types unlike ICU nursing notes without re-validation"],
        "training_data": [{**DATASET, "n": len(train)}], "evaluation_data": [{**DATASET, "n": len(dev)}],
        "metrics": metrics, "subgroups": subgroups,
        "operating_point": {"threshold": tagger.threshold,
                            "rationale": f"best cross-validated phrase recall at span precision >= 0.8 (3 patient-grouped "
                                         f"folds inside train, {n_train} patients); hinted tokens use "
                                         f"{tagger.hinted_threshold}"},
        "calibration": {"cv_grid": {k: v["phrase_recall"] for k, v in cv.items()}},
        "limitations": ["Trained on 915 nursing notes of one ICU (PhysioNet deid); surrogate PHI in that corpus replaced "
                        "the real PHI, so formats of real names and places may differ.",
                        "The corpus annotates years and hospital names; HIPAA Safe Harbor keeps years, medai redacts them.",
                        "Dev figures are on 27 patients (228 PHI phrases): one missed phrase moves recall by 0.4 points.",
                        "Recall is below the 0.99 of the best published ensembles; use with review."],
        "ethical_considerations": "Missed PHI exposes patients; the card reports recall per PHI type and the pipeline "
                                  "propagates every found name through the document to limit leaks.",
        "authors": ["medai contributors"],
        "licence": "Apache-2.0; trained on the PhysioNet deid corpus (GPL-2.0), attribution above",
        "created": datetime.now(timezone.utc).isoformat(), "medai_version": medai.__version__,
    })


def train_and_package(root: Path | None, out_dir: Path, log: Callable[[str], None] = print, min_precision: float = 0.8,
                      notes: Sequence[DeidNote] | None = None, **params) -> Path:
    """Choose thresholds by CV on train, fit on train, evaluate on dev, write the package."""
    train, dev = split_patients(notes if notes is not None else load(root).notes)
    model = DeidSequenceTagger(**params)
    prepared = model.oof_inputs([n.text for n in train], gold_spans(train), [n.patient for n in train])
    log("out-of-fold linear logits and embeddings ready")
    rules = RuleDetector()
    linear = prepared[2]
    cv_scored = _Scored(linear.spans_from_proba, train, oof_head_probas(model, train, prepared, log), rules)
    model.threshold, model.hinted_threshold, cv = choose_thresholds(cv_scored, train, min_precision)
    log(f"chosen threshold {model.threshold}, hinted {model.hinted_threshold}")
    model.fit([], [], prepared=prepared)
    dev_probas = {n.id: model.token_proba(n.text) for n in dev}
    predictions = _Scored(model.spans_from_proba, dev, dev_probas, rules).predictions(model.threshold, model.hinted_threshold)
    evaluation = evaluate_corpus(dev, predictions, clinical_words())
    cis = {k: bootstrap_ci(dev, predictions, k) for k in ("phrase_recall", "token_recall", "span_precision", "token_precision")}
    log(json.dumps(evaluation.overall.metrics()))
    files = model.to_files()
    files["validation_report.json"] = json.dumps({"dev": evaluation.to_dict(), "cv": cv}, indent=1).encode()
    package = save_package(out_dir, build_card(model, train, dev, evaluation, cis, cv), files)
    log(f"package written to {package.path}")
    return package.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--min-precision", type=float, default=0.8)
    args = parser.parse_args()
    train_and_package(args.data, args.out, min_precision=args.min_precision, epochs=args.epochs)


if __name__ == "__main__":
    main()
