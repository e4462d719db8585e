"""Condition extraction benchmark: tagger accuracy on the devel splits and pipeline speed vs medspaCy.

    MEDAI_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/notes_ner.py

Rows: exact-span mention precision / recall / F1 (conlleval-style, 95% bootstrap CIs over sentences)
of the shipped condition tagger on the NCBI Disease and BC5CDR (disease) devel splits; then the
throughput (notes/s) of medai's whole ``extract`` pipeline (tagger + lexicons + ConText assertions
with sections + ICD-10-CM coding), of the same pipeline without the tagger, and of medspaCy's pipeline (PyRuSH sentences, target matcher with
the same lexicon phrases, ConText, sectionizer) on the same distinct MTSamples notes, one thread
each, in the same run; the claim is the ratio (target: medai >= 3x medspaCy).

medspaCy is not a project dependency. Install it into the environment for this benchmark only
(medspaCy pins spacy<3.8 but runs on spacy 3.8 + numpy 2 installed this way)::

    pip install --no-deps medspacy==1.3.1 PyRuSH pysbd jsonschema loguru PyFastNER quicksectx unidecode \
        nltk pysimstring medspacy_unqlite medspacy_quickumls

(``--no-deps`` on all of them: a plain install of medspacy_quickumls downgrades spaCy and numpy.)
Writes benchmarks/results/notes_ner.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from medai.datasets import bc5cdr, mtsamples, ncbi_disease  # noqa: E402
from medai.notes.extract import ConditionExtractor  # noqa: E402
from medai.notes.lexicon import shipped_terms  # noqa: E402
from medai.notes.ner import ConditionTagger  # noqa: E402
from medai.notes.ner_eval import mention_scores  # noqa: E402


def accuracy_rows(data: Path | None) -> list[dict]:
    """Devel P/R/F1 of the shipped tagger per corpus, each in that corpus' annotation style."""
    rows = []
    for name, style, sentences in (("NCBI Disease devel", "ncbi_disease", ncbi_disease.load("devel", data)),
                                   ("BC5CDR disease devel", "bc5cdr_disease", bc5cdr.load("devel", "disease", data))):
        predicted = ConditionTagger(threads=1, style=style).tag([s.tokens for s in sentences])
        rows.append({"name": name, **mention_scores([s.tags for s in sentences], predicted)})
    return rows


def medspacy_pipeline():
    """medspaCy's clinical pipeline with medai's lexicon phrases as target rules."""
    import medspacy
    from loguru import logger
    from medspacy.ner import TargetRule

    logger.remove()  # PyRuSH logs DEBUG through loguru
    nlp = medspacy.load(medspacy_enable=["medspacy_pyrush", "medspacy_target_matcher", "medspacy_context"])
    nlp.get_pipe("medspacy_target_matcher").add([TargetRule(t.text, "CONDITION") for t in shipped_terms() if t.match])
    nlp.add_pipe("medspacy_sectionizer")
    return nlp


def _notes_per_s(run, notes: list[str], batch: int = 8) -> tuple[float, int]:
    """Notes/s and mentions found by ``run`` (a function of a list of notes), after a 2-note warm-up."""
    run(notes[:2])
    start = time.perf_counter()
    found = sum(run(notes[i:i + batch]) for i in range(0, len(notes), batch))
    return len(notes) / (time.perf_counter() - start), found


def speed(notes: list[str]) -> dict:
    """Notes/s of medai's extract pipeline (full, and without the tagger) and of medspaCy's, same notes."""
    result: dict = {"notes": len(notes), "characters": sum(map(len, notes))}
    for name, extractor in (("medai", ConditionExtractor(tagger=ConditionTagger(threads=1))),
                            ("medai_rules_only", ConditionExtractor(use_tagger=False))):
        rate, found = _notes_per_s(lambda batch, e=extractor: sum(len(m) for m in e.extract_many(batch)), notes)
        result.update({f"{name}_notes_per_s": rate, f"{name}_mentions": found})
    try:
        nlp = medspacy_pipeline()
    except ImportError as exc:
        print(f"medspaCy not installed ({exc}); see the docstring for the install line")
        return result
    rate, found = _notes_per_s(lambda batch: sum(len(doc.ents) for doc in nlp.pipe(batch)), notes)
    result.update(medspacy_notes_per_s=rate, medspacy_mentions=found,
                  ratio=result["medai_notes_per_s"] / rate, ratio_rules_only=result["medai_rules_only_notes_per_s"] / rate)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--notes", type=int, default=100, help="distinct MTSamples notes timed")
    args = parser.parse_args()
    tagger = ConditionTagger(threads=1)
    rows = accuracy_rows(args.data)
    print(f"{'data set':24} {'P':>6} {'R':>6} {'F1':>6}  F1 95% CI       gold  pred")
    for r in rows:
        print(f"{r['name']:24} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f}  "
              f"{r['f1_ci'][0]:.3f}-{r['f1_ci'][1]:.3f}  {r['gold_mentions']:5d} {r['predicted_mentions']:5d}", flush=True)
    notes = [s.transcription for s in mtsamples.distinct_notes(mtsamples.load(args.data))][:args.notes]
    s = speed(notes)
    print(f"{'pipeline (' + str(s['notes']) + ' MTSamples notes)':40} {'notes/s':>8} {'mentions':>9} {'vs medspaCy':>12}")
    for key, label in (("medai", "medai extract (tagger+lexicon+ConText+ICD)"), ("medai_rules_only", "medai extract --no-tagger"),
                       ("medspacy", "medspaCy (PyRuSH+targets+ConText+sections)")):
        if f"{key}_notes_per_s" in s:
            ratio = s["medspacy_notes_per_s"] if "medspacy_notes_per_s" in s else None
            ratio_text = f"{s[f'{key}_notes_per_s'] / ratio:.2f}x" if ratio else "-"
            print(f"{label:40} {s[f'{key}_notes_per_s']:8.2f} {s[f'{key}_mentions']:9d} {ratio_text:>12}")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(__file__).parent / "results" / "notes_ner.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "threads": 1, "model": tagger.package_.identity(), "rows": rows, "speed": s}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
