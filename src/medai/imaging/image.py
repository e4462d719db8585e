"""The image type every reader returns, the read error, and helpers shared by the readers."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PathLike = str | os.PathLike[str]


class ImageReadError(ValueError):
    """A file that cannot be read as an image; the message names the file and the problem."""

    def __init__(self, path: PathLike | str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass
class Image:
    """Pixels with their physical geometry.

    ``pixels`` is float32: ``(H, W)``, ``(Z, H, W)``, or either with a trailing channel axis of 3
    (RGB). ``spacing`` holds millimetres per spatial axis in the same order (no entry for the
    channel axis). Pixel values are modality values: Hounsfield units for CT, otherwise the stored
    values after any rescale; MONOCHROME1 images are already inverted so higher means brighter.
    ``photometric`` describes ``pixels`` (``MONOCHROME2`` or ``RGB``); the file's own value, when
    different, is in ``metadata["source_photometric"]``. ``metadata`` never carries patient
    names or identifiers.
    """

    pixels: np.ndarray
    spacing: tuple[float, ...]
    modality: str = "OT"
    photometric: str = "MONOCHROME2"
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def is_rgb(self) -> bool:
        """True when the last axis holds colour channels."""
        return self.photometric == "RGB"

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Shape without the channel axis."""
        return tuple(self.pixels.shape[:-1] if self.is_rgb else self.pixels.shape)



def require_module(module: str, path: PathLike | None = None) -> Any:
    """Import an optional dependency, or fail with the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        message = f"reading this file needs '{module}'; install it with: pip install medai[imaging]"
        if path is not None:
            raise ImageReadError(path, message) from exc
        raise ImportError(message) from exc


def check_file(path: PathLike) -> Path:
    """The path, if it is a non-empty file; otherwise ``ImageReadError``."""
    p = Path(path)
    if not p.exists():
        raise ImageReadError(p, "file not found")
    if p.is_dir():
        raise ImageReadError(p, "is a folder, not a file (use read_dicom_series for a DICOM series)")
    if p.stat().st_size == 0:
        raise ImageReadError(p, "file is empty")
    return p


def finite_float32(path: PathLike, pixels: np.ndarray) -> np.ndarray:
    """Pixels as contiguous float32, refusing empty or non-finite data."""
    out = np.ascontiguousarray(pixels, dtype=np.float32)
    if out.size == 0:
        raise ImageReadError(path, "image has no pixels")
    if not np.all(np.isfinite(out)):
        raise ImageReadError(path, "pixel data contains NaN or infinite values")
    return out
