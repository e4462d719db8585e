"""A synthetic imaging task for fast tests: a bright blob (positive) or none, on 28 px noise."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

import medai
from medai.models import ModelCard


def blob_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` prepared images ``(n, 1, 28, 28)`` in 0-1 and labels (1 = a blob is present)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 0.3, (n, 1, 28, 28)).astype(np.float32)
    y = (np.arange(n) % 2).astype(np.int64)
    yy, xx = np.mgrid[:28, :28]
    for i in np.where(y == 1)[0]:
        cy, cx = rng.integers(7, 21, size=2)
        X[i, 0][(yy - cy) ** 2 + (xx - cx) ** 2 < 16] = 0.9
    return X, y


def tiny_card(name: str = "pneumonia-cxr", version: str = "0.0.1") -> ModelCard:
    """A valid card for a test package trained on synthetic images."""
    source = {"name": "synthetic", "citation": "generated in tests", "licence": "CC0", "n": 160}
    return ModelCard.model_validate({
        "name": name, "version": version, "task": "test", "summary": "synthetic test model",
        "intended_use": "tests only", "out_of_scope_use": ["everything"], "training_data": [source],
        "evaluation_data": [source], "metrics": [{"name": "AUROC", "value": 0.9, "ci_low": 0.8, "ci_high": 1.0,
                                                  "dataset": "synthetic", "split": "validation"}],
        "limitations": ["synthetic"], "ethical_considerations": "none", "authors": ["tests"], "licence": "CC0",
        "created": datetime.now(timezone.utc).isoformat(), "medai_version": medai.__version__})
