"""Encounter features for 30-day readmission on Diabetes 130, and their encoder.

Three kinds of features:

* **Recorded** on the encounter: counts (length of stay, labs, procedures, medications, diagnoses),
  prior utilisation in the year before (``number_inpatient``, ``number_emergency``,
  ``number_outpatient``), codes (admission type/source, discharge disposition, payer, specialty),
  HbA1c and glucose results, the 23 diabetes medications, demographics and three ICD-9 diagnoses
  (grouped as in Strack et al. 2014, as Charlson conditions, and as their 3-digit categories).
* **History in the file**, computed causally: for each encounter, only the same patient's
  *earlier* encounters (``encounter_id`` order is chronological within a patient) are used: how
  many there were, the previous stay's length, disposition and counts, and how many inpatient
  admissions happened between the two. A file with one encounter per patient gives zeros /
  "none" here, and the model then relies on the recorded prior-visit counts. Labels of earlier
  encounters are *not* used: they added nothing measurable (validation AUROC +0.001) and would
  make scoring depend on the ``readmitted`` column.
* **Diagnosis risk**: each ICD-9 code's smoothed 30-day readmission rate, pooled over the three
  diagnosis positions and learned on training patients only (out-of-fold for the training rows
  themselves); summarised per encounter as the first diagnosis' rate, the maximum and the mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medai.datasets.diabetes130 import DIAGNOSIS_COLUMNS, MEDICATIONS, Diabetes130Table
from medai.risk.readmission.lace import acute_admission, charlson_flags, charlson_index, charlson_map, lace_scores
from medai.risk.readmission.task import patient_fraction

COUNTS = ["time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications", "number_outpatient",
          "number_emergency", "number_inpatient", "number_diagnoses"]
DERIVED = ["age_years", "prior_visits", "meds_up", "meds_down", "meds_steady", "meds_on", "acute_admission",
           "charlson_index", "lace"]
HISTORY = ["previous_encounters", "previous_time_in_hospital", "previous_number_inpatient", "inpatient_since_previous",
           "previous_number_emergency", "previous_days_total", "previous_num_medications", "previous_number_diagnoses"]
CHARLSON = [f"charlson_{c.name}" for c in charlson_map().categories]
DIAGNOSIS_RISK = ["diag_1_risk", "diag_max_risk", "diag_mean_risk", "diag3_1_risk", "diag3_max_risk", "diag3_mean_risk"]
NUMERIC = COUNTS + DERIVED + HISTORY + CHARLSON
CATEGORICAL = (["race", "gender", "admission_type_id", "discharge_disposition_id", "admission_source_id", "payer_code",
                "medical_specialty", "max_glu_serum", "A1Cresult", "change", "diabetesMed", *MEDICATIONS]
               + [f"{c}_group" for c in DIAGNOSIS_COLUMNS] + ["diag_1_category", "previous_discharge_disposition_id"])
FEATURE_NAMES = NUMERIC + DIAGNOSIS_RISK + CATEGORICAL
OTHER = "<other>"
RISK_FOLDS = 5
RISK_SMOOTHING = 50.0
MIN_LEVEL_COUNT = 30

_GROUPS = [("circulatory", [(390, 460), (785, 786)]), ("respiratory", [(460, 520), (786, 787)]),
           ("digestive", [(520, 580), (787, 788)]), ("diabetes", [(250, 251)]), ("injury", [(800, 1000)]),
           ("musculoskeletal", [(710, 740)]), ("genitourinary", [(580, 630), (788, 789)]), ("neoplasms", [(140, 240)])]


def diagnosis_group(code: str) -> str:
    """The diagnosis group of an ICD-9 code as in Strack et al. 2014 ('missing', 'other', 'V/E codes', ...)."""
    if not code:
        return "missing"
    if code[0] in "VE":
        return "V/E codes"
    value = float(code)
    return next((name for name, ranges in _GROUPS if any(lo <= value < hi for lo, hi in ranges)), "other")


def _map_unique(values: np.ndarray, function) -> np.ndarray:
    uniq, inverse = np.unique(values, return_inverse=True)
    return np.array([function(str(v)) for v in uniq], dtype=object)[inverse]


def history_features(table: Diabetes130Table) -> dict[str, np.ndarray]:
    """Per-encounter features from the same patient's earlier encounters in the table (NaN when there are none)."""
    n = len(table)
    order = np.lexsort((table["encounter_id"], table["patient_nbr"]))
    patients = table["patient_nbr"][order]
    first = np.r_[True, patients[1:] != patients[:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.arange(n) - starts
    previous = np.where(first, -1, np.arange(n) - 1)  # position (in sorted order) of the previous encounter

    def shifted(column: str) -> np.ndarray:
        values = table[column][order].astype(float)
        return np.where(previous >= 0, values[np.maximum(previous, 0)], np.nan)

    los = table["time_in_hospital"][order].astype(float)
    cumulative = np.cumsum(los) - los
    days_before = cumulative - cumulative[starts]
    sorted_features = {
        "previous_encounters": rank.astype(float),
        "previous_time_in_hospital": shifted("time_in_hospital"),
        "previous_number_inpatient": shifted("number_inpatient"),
        "inpatient_since_previous": table["number_inpatient"][order] - shifted("number_inpatient"),
        "previous_number_emergency": shifted("number_emergency"),
        "previous_days_total": days_before,
        "previous_num_medications": shifted("num_medications"),
        "previous_number_diagnoses": shifted("number_diagnoses"),
        "previous_discharge_disposition_id": shifted("discharge_disposition_id"),
    }
    back = np.empty(n, dtype=np.intp)
    back[order] = np.arange(n)
    return {name: values[back] for name, values in sorted_features.items()}


@dataclass(frozen=True)
class RawFeatures:
    """Features before encoding: numbers (NaN = not applicable) and category strings, one row per encounter."""

    numeric: np.ndarray
    categorical: np.ndarray
    diagnoses: np.ndarray  # (n, 3) normalised ICD-9 codes ('' = missing), for the diagnosis-risk encoder
    patients: np.ndarray

    def __len__(self) -> int:
        return len(self.patients)

    def take(self, mask: np.ndarray) -> RawFeatures:
        return RawFeatures(self.numeric[mask], self.categorical[mask], self.diagnoses[mask], self.patients[mask])


def raw_features(table: Diabetes130Table) -> RawFeatures:
    """The recorded, derived, history and Charlson features of every encounter (nothing fitted)."""
    history = history_features(table)
    flags = charlson_flags(table)
    meds = np.stack([table[m] for m in MEDICATIONS], axis=1)
    age = np.array([float(a[1:].split("-")[0]) + 5 if a else np.nan for a in table["age"]])
    derived = {"age_years": age,
               "prior_visits": table["number_inpatient"] + table["number_emergency"] + table["number_outpatient"],
               "meds_up": (meds == "Up").sum(1), "meds_down": (meds == "Down").sum(1),
               "meds_steady": (meds == "Steady").sum(1), "meds_on": ((meds != "No") & (meds != "")).sum(1),
               "acute_admission": acute_admission(table), "charlson_index": charlson_index(flags),
               "lace": lace_scores(table, flags)}
    columns = ([table[c] for c in COUNTS] + [derived[c] for c in DERIVED] + [history[c] for c in HISTORY]
               + list(flags.T))
    numeric = np.stack([np.asarray(c, dtype=float) for c in columns], axis=1)
    previous = history["previous_discharge_disposition_id"]
    categorical_columns = {
        **{c: table[c].astype(str) for c in CATEGORICAL if c in table.columns},
        **{f"{c}_group": _map_unique(table[c], diagnosis_group) for c in DIAGNOSIS_COLUMNS},
        "diag_1_category": _map_unique(table["diag_1"], lambda code: code.split(".")[0]),
        "previous_discharge_disposition_id": np.where(np.isnan(previous), "none", np.nan_to_num(previous).astype(int).astype(str)),
    }
    categorical = np.stack([np.asarray(categorical_columns[c], dtype=object) for c in CATEGORICAL], axis=1)
    diagnoses = np.stack([_map_unique(table[c], lambda code: code) for c in DIAGNOSIS_COLUMNS], axis=1)
    return RawFeatures(numeric, categorical, diagnoses, table["patient_nbr"])


class DiagnosisRisk:
    """Smoothed 30-day readmission rate of each ICD-9 code (and 3-digit category), pooled over positions.

    ``fit_transform`` gives training rows out-of-fold rates (folds by patient), so a row's own
    outcome never feeds its feature; ``transform`` uses the rates learned on all training rows.
    """

    def __init__(self, smoothing: float = RISK_SMOOTHING, n_folds: int = RISK_FOLDS):
        self.smoothing = smoothing
        self.n_folds = n_folds

    @staticmethod
    def _keys(diagnoses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        categories = np.vectorize(lambda c: c.split(".")[0], otypes=[object])(diagnoses) if diagnoses.size else diagnoses
        return diagnoses, categories

    def _table(self, codes: np.ndarray, y: np.ndarray, prior: float) -> dict[str, float]:
        flat, labels = codes.ravel(), np.repeat(y, codes.shape[1])
        keep = flat != ""
        uniq, inverse = np.unique(flat[keep], return_inverse=True)
        sums, counts = np.bincount(inverse, labels[keep], len(uniq)), np.bincount(inverse, minlength=len(uniq))
        return dict(zip(uniq.tolist(), ((sums + self.smoothing * prior) / (counts + self.smoothing)).tolist()))

    def fit(self, raw: RawFeatures, y: np.ndarray) -> DiagnosisRisk:
        """Learn the rates from training rows."""
        self.prior_ = float(np.mean(y))
        codes, categories = self._keys(raw.diagnoses)
        self.codes_, self.categories_ = self._table(codes, y, self.prior_), self._table(categories, y, self.prior_)
        return self

    def _summarise(self, codes: np.ndarray, categories: np.ndarray, tables: tuple[dict, dict]) -> np.ndarray:
        out = []
        for keys, table in zip((codes, categories), tables):
            rates = np.vectorize(lambda k: table.get(k, np.nan) if k else np.nan, otypes=[float])(keys)
            filled = np.where(np.isnan(rates), self.prior_, rates)
            out += [filled[:, 0], filled.max(axis=1), filled.mean(axis=1)]
        return np.stack(out, axis=1)

    def transform(self, raw: RawFeatures) -> np.ndarray:
        """The six diagnosis-risk features (first, max, mean; full code then 3-digit category)."""
        return self._summarise(*self._keys(raw.diagnoses), (self.codes_, self.categories_))

    def fit_transform(self, raw: RawFeatures, y: np.ndarray) -> np.ndarray:
        """Fit on all rows; return out-of-fold features for these same rows."""
        self.fit(raw, y)
        codes, categories = self._keys(raw.diagnoses)
        folds = np.array([int(patient_fraction(int(p), "medai-readmission-risk-folds") * self.n_folds) for p in raw.patients])
        out = np.empty((len(raw), len(DIAGNOSIS_RISK)))
        for fold in range(self.n_folds):
            held = folds == fold
            tables = (self._table(codes[~held], y[~held], self.prior_), self._table(categories[~held], y[~held], self.prior_))
            out[held] = self._summarise(codes[held], categories[held], tables)
        return out

    def to_dict(self) -> dict:
        return {"smoothing": self.smoothing, "n_folds": self.n_folds, "prior": self.prior_, "codes": self.codes_,
                "categories": self.categories_}

    @classmethod
    def from_dict(cls, data: dict) -> DiagnosisRisk:
        risk = cls(data["smoothing"], data["n_folds"])
        risk.prior_, risk.codes_, risk.categories_ = data["prior"], data["codes"], data["categories"]
        return risk


@dataclass(frozen=True)
class Encoded:
    """Model inputs: ``X`` for trees (category codes as numbers) and the MLP's parts."""

    X: np.ndarray  # (n, len(FEATURE_NAMES)): numeric, diagnosis risk, category codes
    n_numeric: int

    @property
    def continuous(self) -> np.ndarray:
        """Numeric and diagnosis-risk columns (NaN = not applicable)."""
        return self.X[:, :self.n_numeric]

    @property
    def codes(self) -> np.ndarray:
        """Category codes (0 = rare or unseen level), int64."""
        return self.X[:, self.n_numeric:].astype(np.int64)


class FeatureEncoder:
    """Fitted preprocessing: category vocabularies (levels seen >= ``min_count`` times) and diagnosis risks.

    Fit it on training rows only (after the split); it is saved in the model package as JSON.
    """

    def __init__(self, min_count: int = MIN_LEVEL_COUNT):
        self.min_count = min_count

    def fit(self, raw: RawFeatures, y: np.ndarray) -> FeatureEncoder:
        self._fit_vocabularies(raw)
        self.risk_ = DiagnosisRisk().fit(raw, y)
        return self

    def _fit_vocabularies(self, raw: RawFeatures) -> None:
        self.vocabularies_ = {}
        for j, name in enumerate(CATEGORICAL):
            levels, counts = np.unique(raw.categorical[:, j].astype(str), return_counts=True)
            self.vocabularies_[name] = [OTHER] + sorted(levels[counts >= self.min_count].tolist())

    def _codes(self, raw: RawFeatures) -> np.ndarray:
        codes = np.zeros(raw.categorical.shape, dtype=float)
        for j, name in enumerate(CATEGORICAL):
            index = {level: k for k, level in enumerate(self.vocabularies_[name])}
            codes[:, j] = _map_unique(raw.categorical[:, j].astype(str), lambda v: index.get(v, 0)).astype(float)
        return codes

    def _assemble(self, raw: RawFeatures, risk: np.ndarray) -> Encoded:
        return Encoded(np.hstack([raw.numeric, risk, self._codes(raw)]), raw.numeric.shape[1] + risk.shape[1])

    def transform(self, raw: RawFeatures) -> Encoded:
        return self._assemble(raw, self.risk_.transform(raw))

    def fit_transform(self, raw: RawFeatures, y: np.ndarray) -> Encoded:
        """Fit on the training rows and encode them (their diagnosis risks out-of-fold)."""
        self._fit_vocabularies(raw)
        self.risk_ = DiagnosisRisk()
        return self._assemble(raw, self.risk_.fit_transform(raw, y))

    def transform_training(self, raw: RawFeatures, y: np.ndarray) -> Encoded:
        """The encoding ``fit_transform`` gave the training rows (out-of-fold risks), without refitting."""
        folds = DiagnosisRisk(self.risk_.smoothing, self.risk_.n_folds)
        return self._assemble(raw, folds.fit_transform(raw, y))

    @property
    def cardinalities(self) -> list[int]:
        """Number of codes of each categorical feature (for embedding tables)."""
        return [len(self.vocabularies_[name]) for name in CATEGORICAL]

    def to_dict(self) -> dict:
        return {"features": FEATURE_NAMES, "min_count": self.min_count, "vocabularies": self.vocabularies_,
                "diagnosis_risk": self.risk_.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureEncoder:
        if data.get("features") != FEATURE_NAMES:
            raise ValueError("the encoder was saved for a different feature set than this medai version computes")
        encoder = cls(data["min_count"])
        encoder.vocabularies_ = data["vocabularies"]
        encoder.risk_ = DiagnosisRisk.from_dict(data["diagnosis_risk"])
        return encoder
