"""Feature matrices for many stays at once (in parallel), with labels and patient ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medai.datasets.physionet2019 import PatientStay
from medai.risk.sepsis.features import stay_features


@dataclass
class FeatureTable:
    """Stacked hourly features of many stays; ``offsets[i]:offsets[i+1]`` are the rows of stay i."""

    X: np.ndarray
    y: np.ndarray
    patient_ids: list[str]
    offsets: np.ndarray

    def split_by_stay(self, values: np.ndarray) -> list[np.ndarray]:
        """Cut a per-row array back into one array per stay."""
        return [values[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def row_patients(self) -> np.ndarray:
        """The patient id of every row."""
        return np.repeat(np.array(self.patient_ids), np.diff(self.offsets))


def _features(values_list: list[np.ndarray]) -> list[np.ndarray]:
    return [stay_features(values) for values in values_list]


def build_table(stays: list[PatientStay], n_jobs: int = 2) -> FeatureTable:
    """Features of every stay, computed in ``n_jobs`` processes."""
    from joblib import Parallel, delayed

    chunks = [stays[i::n_jobs] for i in range(n_jobs)]
    results = Parallel(n_jobs=n_jobs)(delayed(_features)([s.values for s in chunk]) for chunk in chunks)
    by_id = {}
    for chunk, feats in zip(chunks, results):
        by_id.update({s.patient_id: f for s, f in zip(chunk, feats)})
    matrices = [by_id[s.patient_id] for s in stays]
    lengths = [len(m) for m in matrices]
    labels = [s.labels if s.labels is not None else np.zeros(len(s.values), dtype=np.int8) for s in stays]
    return FeatureTable(np.vstack(matrices).astype(np.float32), np.concatenate(labels).astype(np.int8),
                        [s.patient_id for s in stays], np.concatenate([[0], np.cumsum(lengths)]))
