"""Labelled image cases shared by the imaging dataset loaders, and safe zip extraction to a cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medai.config import get_settings
from medai.datasets.registry import DATASETS, locate


@dataclass
class ImageCase:
    """One labelled image: a file on disk or pixels in memory, the label, and its split group.

    ``group`` keeps all images of one patient (or study) on one side of a split.
    """

    case_id: str
    label: int
    group: str
    path: Path | None = None
    pixels: np.ndarray | None = None
    spacing: tuple[float, ...] = (1.0, 1.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def read(self):
        """The case as a :class:`medai.imaging.image.Image`."""
        from medai.imaging.image import Image
        from medai.imaging.io import read_image

        if self.path is not None:
            return read_image(self.path)
        assert self.pixels is not None, f"case {self.case_id} has neither a path nor pixels"
        rgb = self.pixels.ndim == 3 and self.pixels.shape[-1] == 3
        return Image(pixels=self.pixels.astype(np.float32), spacing=self.spacing,
                     photometric="RGB" if rgb else "MONOCHROME2", source=self.case_id)


def extracted(name: str, archive: str, root: str | Path | None = None) -> Path:
    """The contents of a dataset zip, extracted once into ``$MEDAI_HOME/cache`` and reused.

    Extraction goes to a staging folder that is renamed into place, so an interrupted run never
    leaves a half-extracted cache; members that would escape the folder are refused.
    """
    source = locate(name, root) / archive
    tag = DATASETS[name].files[archive][:12]
    target = get_settings().home / "cache" / name / tag
    if target.is_dir():
        return target
    staging = target.with_name(f".{tag}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(source) as zf:
        for member in zf.infolist():
            destination = (staging / member.filename).resolve()
            if not destination.is_relative_to(staging.resolve()):
                raise ValueError(f"{source}: member {member.filename!r} would be written outside the folder")
        zf.extractall(staging)
    try:
        staging.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def split_groups(cases: list[ImageCase], validation_fraction: float = 0.2,
                 seed: int = 20261130) -> tuple[list[ImageCase], list[ImageCase]]:
    """A reproducible train/validation split by group, stratified by each group's highest label."""
    groups: dict[str, int] = {}
    for case in cases:
        groups[case.group] = max(groups.get(case.group, 0), case.label)
    validation: set[str] = set()
    for label in sorted(set(groups.values())):
        members = sorted(g for g, lab in groups.items() if lab == label)
        order = sorted(members, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
        validation.update(order[: round(len(order) * validation_fraction)])
    return ([c for c in cases if c.group not in validation], [c for c in cases if c.group in validation])
