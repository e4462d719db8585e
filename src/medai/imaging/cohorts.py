"""Each imaging task's training and validation cases from its public dataset, split before any fit,
and their prepared model inputs.

Splits: MedMNIST sets use their official train/val; IDRiD, LIDC (by patient) and FracAtlas use a
reproducible 80/20 split by group (:func:`medai.datasets.cases.split_groups`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medai.datasets.cases import ImageCase, split_groups
from medai.imaging.image import ImageReadError
from medai.imaging.tasks import ImagingTask, get_task


@dataclass
class Cohort:
    """A task's train and validation cases, and the cases skipped with the reason."""

    task: ImagingTask
    train: list[ImageCase]
    validation: list[ImageCase]
    skipped: dict[str, str]


def load_cohort(task_name: str, root: str | Path | None = None) -> Cohort:
    """Train/validation cases of ``task_name`` from its dataset under ``root`` or ``$MEDAI_DATA_DIR``."""
    task = get_task(task_name)
    skipped: dict[str, str] = {}
    if task.dataset in ("retinamnist", "pneumoniamnist"):
        from medai.datasets import medmnist

        splits = medmnist.load(task.dataset, root)
        return Cohort(task, splits["train"], splits["val"], skipped)
    if task.dataset == "idrid":
        from medai.datasets import idrid

        cases = idrid.load(root)
    elif task.dataset == "lidc_vois":
        from medai.datasets import lidc

        cases = lidc.load_vois(root)
    elif task.dataset == "fracatlas":
        from medai.datasets import fracatlas

        cases = []
        for case in fracatlas.load(root):
            if case.extra["truncated"]:
                skipped[case.case_id] = "JPEG truncated in the source release"
            else:
                cases.append(case)
    else:  # pragma: no cover - every task names a known dataset
        raise ValueError(f"no loader for dataset {task.dataset!r}")
    train, validation = split_groups(cases)
    return Cohort(task, train, validation, skipped)


PREPARE_VERSION = "1"


def prepare_cases(task: ImagingTask, cases: list[ImageCase], cache_dir: Path | None = None,
                  log: Callable[[str], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs ``X`` (N, C, *size) and labels ``y`` of ``cases``, cached as ``.npy`` when given a folder."""
    key = hashlib.sha256("|".join([PREPARE_VERSION, task.name, *(c.case_id for c in cases)]).encode()).hexdigest()[:16]
    cached = cache_dir / f"{task.name}-{key}.npz" if cache_dir else None
    if cached and cached.exists():
        with np.load(cached) as data:
            return data["X"], data["y"]
    X = np.zeros((len(cases), task.channels, *task.size), dtype=np.float32)
    for i, case in enumerate(cases):
        try:
            X[i] = task.prepare(case.read())
        except ImageReadError as exc:
            raise ImageReadError(exc.path, f"case {case.case_id}: {exc.problem}") from exc
        if log and (i + 1) % 500 == 0:
            log(f"prepared {i + 1}/{len(cases)} images")
    y = np.array([c.label for c in cases], dtype=np.int64)
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, X=X, y=y)
    return X, y
