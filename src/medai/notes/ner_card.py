"""The model card of the condition-mention tagger package."""

from __future__ import annotations

from datetime import UTC, datetime

from medai import __version__
from medai.datasets.registry import DATASETS
from medai.models import DataSource, Metric, ModelCard
from medai.notes.ner import MODEL_NAME, MODEL_VERSION

SOURCES = {"ncbi_disease": ("NCBI Disease corpus", "ncbi_disease", "https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE/"),
           "bc5cdr_disease": ("BC5CDR disease (IOB conversion)", "bc5cdr",
                              "https://github.com/cambridgeltl/MTL-Bioinformatics-2016")}


def _source(corpus: str, split: str, n: int) -> DataSource:
    label, dataset, url = SOURCES[corpus]
    info = DATASETS[dataset]
    return DataSource(name=f"{label}, {split} (sentences)", citation=info.citation, licence=info.licence, url=url, n=n)


def build_card(scores: dict[str, dict], counts: dict[str, dict[str, int]], styles: bool = False,
               runs: list[dict] | None = None) -> ModelCard:
    """A card with devel precision / recall / F1 (95% bootstrap CIs) of the shipped int8 model per corpus
    (with ``styles``, each corpus scored with its own style marker); ``runs`` (settings and loss history of
    each training run) adds how long it was trained."""
    style_note = (" Each training sentence carries a marker of its corpus, so the one model follows either "
                  "annotation convention; notes are tagged in the BC5CDR style (which also marks signs and "
                  "symptoms such as hypotension or seizures)." if styles else "")
    if runs:
        epochs = sum(max((h["epoch"] for h in run["history"]), default=0.0) for run in runs)
        style_note += (f" Trained on 1 CPU thread in {len(runs)} continued run(s) of at most 24 minutes, about "
                       f"{epochs:.1f} epochs in all, word embeddings frozen.")
    training = [_source(c, "train", counts[c]["train"]) for c in SOURCES]
    evaluation = [_source(c, "devel", counts[c]["devel"]) for c in SOURCES]
    metrics = [Metric(name=f"mention {key} (exact span)", value=scores[c][key], ci_low=scores[c][f"{key}_ci"][0],
                      ci_high=scores[c][f"{key}_ci"][1], dataset=src.name, split="devel (official; used to pick the epoch)")
               for c, src in zip(SOURCES, evaluation, strict=True) for key in ("precision", "recall", "f1")]
    return ModelCard(
        name=MODEL_NAME, version=MODEL_VERSION,
        task="Condition mention recognition (diseases, disorders; IOB word tagging) in English text",
        summary="all-MiniLM-L6-v2 (6 layers, 384-d, uncased) fine-tuned as a word tagger on the pooled NCBI Disease "
                "and BC5CDR disease train splits, exported to ONNX and quantised to int8." + style_note + " medai's "
                "extract pipeline adds a clinical-findings lexicon (signs and symptoms) and ICD-10-CM coding on top.",
        intended_use="Finding disease and disorder mentions, with character spans, in clinical notes and biomedical "
                     "text, as the first step of condition extraction for review by people (chart abstraction, "
                     "cohort finding, coding suggestions).",
        out_of_scope_use=["Automated billing or coding without human review",
                          "Diagnosis: a mention is what the text says, not what the patient has",
                          "Languages other than English"],
        training_data=training, evaluation_data=evaluation, metrics=metrics,
        limitations=["Trained on PubMed abstracts, not clinical notes; abbreviations and telegraphic note style are "
                     "less well covered (the extract pipeline's lexicon fills part of that gap).",
                     "Signs and symptoms are mostly not annotated in NCBI / BC5CDR, so the tagger misses many of them.",
                     "The two corpora annotate differently (NCBI includes modifiers such as 'hereditary'); the pooled "
                     "model sits between the two conventions.",
                     "No pretrained biomedical language model was available offline; devel F1 is below BioBERT's.",
                     "Devel scores were used to choose the epoch; the official test splits were not used."],
        ethical_considerations="Training texts are published abstracts with no patient data. Missed mentions (false "
                               "negatives) can hide conditions from downstream review; outputs must be checked.",
        authors=["medai contributors"],
        licence="Apache-2.0 (model and base weights); training data: NCBI Disease public domain (U.S. Government "
                "work, NLM); BC5CDR freely distributed for research by BioCreative, IOB conversion CC BY 4.0",
        created=datetime.now(UTC), medai_version=__version__)
