"""The sepsis task: cohort loading, the patient-level split, and the challenge's label timing.

In the challenge data ``SepsisLabel`` is 1 from six hours before sepsis onset onwards,
so onset (``t_sepsis``) is the first positive hour + 6. Splits are by patient and
deterministic (a hash of the id), so no patient is ever on both sides.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from medai.datasets import physionet2019
from medai.datasets.physionet2019 import PatientStay
from medai.errors import Problem

LABEL_LEAD_HOURS = 6
SPLIT_SEED = "medai-sepsis-731"


def is_validation(patient_id: str, validation_fraction: float = 0.2, seed: str = SPLIT_SEED) -> bool:
    """Whether a patient belongs to the validation side of the split (stable across runs and machines)."""
    digest = hashlib.sha256(f"{seed}:{patient_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < validation_fraction


def split_stays(stays: Iterable[PatientStay], validation_fraction: float = 0.2) -> tuple[list[PatientStay], list[PatientStay]]:
    """(train, validation) stays, split by patient."""
    train, validation = [], []
    for stay in stays:
        (validation if is_validation(stay.patient_id, validation_fraction) else train).append(stay)
    return train, validation


def load_cohort(root: str | Path | None = None, limit: int | None = None) -> list[PatientStay]:
    """Every stay of hospital A (from ``root`` or ``$MEDAI_DATA_DIR``)."""
    return list(physionet2019.load(root, limit=limit))


def load_psv_folder(path: Path, errors: list[Problem]) -> list[PatientStay]:
    """Every stay in a folder or zip of PSV files; bad files are reported in ``errors`` and skipped."""
    return list(physionet2019.iter_patients(Path(path), errors))


def onset_hour(labels: np.ndarray) -> int | None:
    """The row index of sepsis onset (first positive label + 6), or None for a non-septic stay."""
    positive = np.flatnonzero(labels)
    return int(positive[0]) + LABEL_LEAD_HOURS if len(positive) else None
