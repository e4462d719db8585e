"""The symptom-checker knowledge base as a model package (``assets/models/symptom-checker-<version>/``).

The package holds a copy of every knowledge file under ``knowledge/`` (the "weights" of this rule-based model,
hash-checked by :func:`medai.models.load_package`), ``card.json`` with the validation figures on both vignette
sets and ``manifest.json``. :func:`write_package` builds it from the shipped knowledge folder and the benchmark
results (``benchmarks/results/assistant_symptoms.json``); :func:`package_identity` is what every assessment
reports, and says whether the knowledge in use is the packaged one.

    python -m medai.assistant.symptoms.package benchmarks/results/assistant_symptoms.json
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import medai
from medai.assistant.symptoms.knowledge import KnowledgeBase, build, read_folder
from medai.models import ModelCard, ModelPackageError, load_package, save_package
from medai.models.registry import shipped_models_dir

NAME = "symptom-checker"
VERSION = "1.0.0"
KNOWLEDGE_DIR = "knowledge"
VIGNETTE_SETS = {
    "dev": ("medai symptom-checker development vignettes", "benchmarks/data/assistant_vignettes.yaml; written by "
            "the medai authors from StatPearls / NICE / CDC / NHS case descriptions; used while building and tuning"),
    "check": ("medai symptom-checker check vignettes", "benchmarks/data/assistant_vignettes_check.yaml; written by "
              "the medai authors from StatPearls / NICE CKS / CDC / NHS case descriptions before the second round "
              "of changes; its failures were seen and informed the third round (vocabulary, age reader)"),
    "fresh": ("medai symptom-checker fresh vignettes", "benchmarks/data/assistant_vignettes_fresh.yaml; 48 lay-language "
              "cases (12 per triage level) written by the medai authors from NHS / NICE CKS / StatPearls / CDC pages "
              "before the third round of changes; never tuned on"),
}
METRICS = {"top1": "Top-1 diagnosis accuracy", "top3": "Top-3 diagnosis accuracy", "triage": "Triage accuracy (4 levels)",
           "emergencies_under_triaged": "Emergencies under-triaged (share)"}


def package_dir() -> Path:
    """Where the shipped package lives."""
    return shipped_models_dir() / f"{NAME}-{VERSION}"


def build_card(kb: KnowledgeBase, rows: list[dict]) -> ModelCard:
    """The card from the benchmark rows (``benchmarks/assistant_symptoms.py``: one per set and configuration)."""
    metrics = []
    sets_seen = {}
    for row in rows:
        name, citation = VIGNETTE_SETS[row["set"]]
        sets_seen[row["set"]] = {"name": name, "citation": citation, "licence": "Apache-2.0 (medai)", "n": row["n"]}
        for key, label in METRICS.items():
            low, high = row["ci"][key]
            metrics.append({"name": f"{label}, {row['name']}", "value": row[key], "ci_low": low, "ci_high": high,
                            "dataset": name, "split": f"all {row['n']} vignettes ({row['set']})"})
        metrics.append({"name": f"Emergencies triaged as self-care (count), {row['name']}",
                        "value": row["emergencies_as_self_care"], "ci_low": row["emergencies_as_self_care"],
                        "ci_high": row["emergencies_as_self_care"], "dataset": name,
                        "split": f"all {row['n']} vignettes ({row['set']})"})
    return ModelCard.model_validate({
        "name": NAME, "version": VERSION,
        "task": "Symptom checking: differential diagnosis and triage (emergency / urgent / routine / self-care)",
        "summary": (f"Knowledge base {kb.version} (sha256 {kb.sha256[:16]}...): {len(kb.conditions)} conditions, "
                    f"{len(kb.findings)} findings, {len(kb.red_flags)} red-flag rules; noisy-OR inference with leak, "
                    "red-flag rules and a calibrated differential urgency; adaptive interview."),
        "intended_use": ("Patient-facing information about possible causes of symptoms and how urgently to seek care, "
                         "inside the medai assistant, with a disclaimer; an aid to navigation, never a diagnosis."),
        "out_of_scope_use": ["Diagnosis or treatment decisions without a clinician",
                             "Use as a medical device or for regulatory triage (it is not one)",
                             "Replacing emergency services: anyone who feels very unwell should call 911",
                             "Conditions outside the knowledge base (rare diseases, most chronic disease follow-up)"],
        "training_data": [],
        "evaluation_data": list(sets_seen.values()),
        "metrics": metrics,
        "limitations": [
            "Likelihoods, priors and age / sex multipliers are expert approximations written from the cited public "
            "sources, not fitted to patient data; posteriors are not calibrated probabilities.",
            "Validated only on author-written vignettes (small: 64, 49 and 48), not on real consultations; the dev "
            "set was used for tuning and the check set's failures were seen before the third round, so both are "
            "optimistic; the fresh set, never tuned on, is the fairest estimate (its author also extended the "
            "vocabulary afterwards; phrases found verbatim in it were removed from the additions).",
            "Free-text understanding relies on a synonym vocabulary plus an optional MiniLM fallback; phrasings it "
            "does not know are missed, which is the main source of errors on the check set.",
            "Single-fault assumption: one condition explains the presentation.",
            "Triage is conservative by design: red-flag rules over-triage some urgent cases to emergency.",
            "Not a medical device; English only; US emergency numbers by default.",
        ],
        "ethical_considerations": ("Safety first: red-flag presentations always triage as emergency, emergency "
                                   "conditions in the differential get their warning signs asked before the "
                                   "interview concludes, and every answer carries a disclaimer."),
        "authors": ["medai authors"], "licence": "Apache-2.0",
        "created": datetime.now(UTC).isoformat(), "medai_version": medai.__version__,
    })


def write_package(results: Path, directory: Path | None = None) -> Path:
    """Write the package from the shipped knowledge and the benchmark ``results`` JSON; returns its folder."""
    texts = read_folder()
    kb = build(texts)
    rows = json.loads(results.read_text(encoding="utf-8"))["rows"]
    files = {f"{KNOWLEDGE_DIR}/{name}": text.encode("utf-8") for name, text in texts.items()}
    target = directory or package_dir()
    return save_package(target, build_card(kb, rows), files).path


@lru_cache(maxsize=4)
def _packaged_sha256(directory: str) -> tuple[str, str, str]:
    package = load_package(directory)
    texts = {rel.removeprefix(f"{KNOWLEDGE_DIR}/"): package.file(rel).read_text(encoding="utf-8")
             for rel in package.weights_files}
    return package.name, package.version, build(texts).sha256


def package_identity(kb: KnowledgeBase, directory: Path | None = None) -> dict:
    """``model_id`` / ``model_version`` of the package (hash-checked on first use) and whether ``kb`` is the
    packaged knowledge (``packaged``): an edited knowledge base reports ``model_version`` with ``+modified``."""
    try:
        name, version, sha = _packaged_sha256(str(directory or package_dir()))
    except ModelPackageError:
        return {"model_id": NAME, "model_version": f"{VERSION}+unpackaged", "packaged": False}
    packaged = sha == kb.sha256
    return {"model_id": name, "model_version": version if packaged else f"{version}+modified", "packaged": packaged}


if __name__ == "__main__":
    print(write_package(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/results/assistant_symptoms.json")))
