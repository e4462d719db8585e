"""MedMNIST v2 28 px sets as shared here (RetinaMNIST, PneumoniaMNIST variant, BreastMNIST): train and val.

The official test splits are held back; ``load`` returns what the ``.npz`` holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medai.datasets.cases import ImageCase
from medai.datasets.registry import DATASETS, locate

SPLITS = ("train", "val", "test")


def load(name: str, root: str | Path | None = None) -> dict[str, list[ImageCase]]:
    """``{split: [ImageCase]}`` for ``name`` in ``retinamnist``, ``pneumoniamnist``, ``breastmnist``."""
    if name not in ("retinamnist", "pneumoniamnist", "breastmnist"):
        raise ValueError(f"unknown MedMNIST set {name!r}; choose retinamnist, pneumoniamnist or breastmnist")
    (archive,) = DATASETS[name].files
    with np.load(locate(name, root) / archive) as data:
        out: dict[str, list[ImageCase]] = {}
        for split in SPLITS:
            if f"{split}_images" not in data:
                continue
            images = data[f"{split}_images"]
            labels = np.asarray(data[f"{split}_labels"]).reshape(-1).astype(int)
            out[split] = [ImageCase(case_id=f"{name}-{split}-{i}", label=int(labels[i]), group=f"{split}-{i}",
                                    pixels=images[i]) for i in range(len(labels))]
    return out
