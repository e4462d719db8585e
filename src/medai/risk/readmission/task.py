"""The readmission task on Diabetes 130: outcome, exclusions and the patient-level split.

* Outcome: ``readmitted == "<30"`` (an inpatient readmission within 30 days of discharge).
* Excluded from the outcome (never trained or evaluated on): encounters that ended in death or
  discharge to hospice (``excluded_discharge_dispositions`` in
  ``assets/knowledge/readmission/diabetes130_codes.yaml``: 11, 13, 14, 19, 20, 21), the usual
  practice for this data set (Strack et al. 2014). At scoring time these encounters still get a
  probability: the rate observed for their disposition in training (0 for death).
* Split: by ``patient_nbr`` (a stable hash), so a patient's encounters are all on one side;
  20% of patients for validation, and inside the training side 15% of patients for early
  stopping, the blend weight and calibration. Preprocessing is fitted on the rest only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import Field

from medai.datasets import diabetes130
from medai.datasets.diabetes130 import Diabetes130Table
from medai.core.knowledge import Citation, Strict, parse_knowledge

SPLIT_SEED = "medai-readmission-731"
INNER_SEED = "medai-readmission-es"
VALIDATION_FRACTION = 0.2
INNER_FRACTION = 0.15


class CodeTables(Strict):
    """Meanings of the Diabetes 130 id columns and the dispositions excluded from the outcome."""

    version: str
    description: str
    citation: Citation
    excluded_discharge_dispositions: list[int] = Field(min_length=1)
    admission_type_id: dict[int, str]
    discharge_disposition_id: dict[int, str]
    admission_source_id: dict[int, str]

    def describe(self, column: str, code: int) -> str:
        """The meaning of a code of one of the three id columns (the code itself when unknown)."""
        return getattr(self, column).get(int(code), f"code {code}")


@lru_cache(maxsize=1)
def code_tables() -> CodeTables:
    """The shipped code tables (``diabetes130_codes.yaml``)."""
    name = "knowledge/readmission/diabetes130_codes.yaml"
    return parse_knowledge(resources.files("medai.assets").joinpath(name).read_text(encoding="utf-8"), CodeTables, name)


def patient_fraction(patient: int, seed: str) -> float:
    """A patient's stable position in [0, 1) under ``seed`` (the same on every machine and run)."""
    digest = hashlib.sha256(f"{seed}:{patient}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_split(patients: np.ndarray, fraction: float, seed: str) -> np.ndarray:
    """Boolean mask: which encounters' patients fall in the first ``fraction`` under ``seed``."""
    uniq, inverse = np.unique(patients, return_inverse=True)
    chosen = np.array([patient_fraction(int(p), seed) < fraction for p in uniq], dtype=bool)
    return chosen[inverse]


def excluded(table: Diabetes130Table) -> np.ndarray:
    """Encounters left out of the outcome: death or discharge to hospice."""
    return np.isin(table["discharge_disposition_id"], code_tables().excluded_discharge_dispositions)


@dataclass(frozen=True)
class Split:
    """Row masks over one table: inner training, early-stopping/calibration and validation (outcome rows only)."""

    train: np.ndarray
    inner: np.ndarray
    validation: np.ndarray
    validation_side: np.ndarray  # every encounter of a validation patient, death/hospice included

    @property
    def fit(self) -> np.ndarray:
        """Training rows the models are fitted on (training side minus the inner early-stopping patients)."""
        return self.train & ~self.inner

    @property
    def early_stopping(self) -> np.ndarray:
        """Training-side rows used for early stopping, the blend weight and calibration."""
        return self.train & self.inner


def split(table: Diabetes130Table, validation_fraction: float = VALIDATION_FRACTION,
          inner_fraction: float = INNER_FRACTION, seed: str = SPLIT_SEED) -> Split:
    """The patient-level split of ``table``; excluded encounters are in none of the masks.

    Another ``seed`` gives another random split (used to measure how much the figures depend on it).
    """
    keep = ~excluded(table)
    validation = in_split(table["patient_nbr"], validation_fraction, seed)
    inner = in_split(table["patient_nbr"], inner_fraction, INNER_SEED if seed == SPLIT_SEED else f"{seed}-inner")
    return Split(train=keep & ~validation, inner=inner & keep & ~validation, validation=keep & validation,
                 validation_side=validation)


def load_cohort(root: str | Path | None = None) -> Diabetes130Table:
    """The shared Diabetes 130 encounters (from ``root`` or ``$MEDAI_DATA_DIR``)."""
    return diabetes130.load(root)


def subgroups(table: Diabetes130Table) -> dict[str, np.ndarray]:
    """Subgroup labels as recorded: age band (three bands), sex and race ('unknown' when not recorded)."""
    decade = np.array([int(a[1:].split("-")[0]) if a else -1 for a in table["age"]])
    age = np.select([decade < 0, decade < 50, decade < 70], ["unknown", "<50", "50-69"], "70+")
    sex = np.where(np.isin(table["gender"], ["Female", "Male"]), table["gender"], "unknown")
    race = np.where(table["race"] == "", "unknown", table["race"])
    return {"age band": age, "sex": sex, "race": race}
