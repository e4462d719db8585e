"""Reading images for a model and predicting: the path behind ``medai imaging predict``, the API and the UI.

Inputs are files (PNG, JPEG, DICOM, NIfTI) or folders. For a 3D model a folder of DICOM slices is
one CT series; for a 2D model a folder is searched for image files. A nodule model given a whole
series also needs the nodule centre (column, row, slice index) to crop around.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medai.imaging.image import Image, ImageReadError
from medai.imaging.io import read_dicom_series, read_image
from medai.imaging.overlays import saliency_png
from medai.imaging.package import ImagingModel
from medai.imaging.tasks import ImagingTask
from medai.models import ModelRegistry, default_registry

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm", ".dicom", ".nii", ".nii.gz", ".ima")
NODULE_FIELD_MM = 48.0


def load_model(name: str, registry: ModelRegistry | None = None, backend: str = "onnx") -> ImagingModel:
    """The imaging model package ``name`` from the registry (hash-checked), ready to predict."""
    return ImagingModel.load((registry or default_registry()).get(name), backend=backend)


@dataclass
class ImagingResult:
    """One image's finding: class probabilities, the positive-finding probability and a saliency PNG."""

    source: str
    task: ImagingTask
    model_id: str
    model_version: str
    weights_sha256: str
    probabilities: list[float]
    positive_probability: float
    threshold: float
    input_sha256: str
    overlay_png: bytes | None = field(default=None, repr=False)
    metadata: dict = field(default_factory=dict)

    @property
    def prediction(self) -> int:
        """Index of the most probable class."""
        return int(np.argmax(self.probabilities))

    @property
    def label(self) -> str:
        """Name of the most probable class."""
        return self.task.classes[self.prediction]

    @property
    def positive(self) -> bool:
        """True when the positive-finding probability reaches the operating threshold."""
        return self.positive_probability >= self.threshold

    def to_dict(self) -> dict:
        """JSON-ready summary (the overlay is left out; it is served as PNG)."""
        return {"source": self.source, "model": self.model_id, "model_version": self.model_version,
                "weights_sha256": self.weights_sha256, "prediction": self.prediction, "label": self.label,
                "probabilities": dict(zip(self.task.classes, self.probabilities)),
                "finding": self.task.finding, "positive_probability": self.positive_probability,
                "threshold": self.threshold, "positive": self.positive, "input_sha256": self.input_sha256}


def _is_image_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(IMAGE_SUFFIXES) or "." not in name


def collect_inputs(inputs: Iterable[str | Path], task: ImagingTask) -> list[Path]:
    """Expand folders: a 3D task keeps a folder as one series; a 2D task takes the image files inside."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise ImageReadError(path, "file or folder not found")
        if path.is_dir() and task.spatial_dims == 2:
            found = sorted(p for p in path.rglob("*") if p.is_file() and _is_image_file(p))
            if not found:
                raise ImageReadError(path, "folder holds no PNG, JPEG, DICOM or NIfTI files")
            out.extend(found)
        else:
            out.append(path)
    return out


def read_for_task(path: str | Path, task: ImagingTask, centre: Sequence[float] | None = None) -> Image:
    """Read one input for ``task``: a DICOM series folder, or any single image/volume file."""
    path = Path(path)
    image = read_dicom_series(path) if path.is_dir() else read_image(path)
    if task.spatial_dims == 3 and centre is not None:
        image = crop_around(image, centre)
    return image


def crop_around(volume: Image, centre: Sequence[float], field_mm: float = NODULE_FIELD_MM) -> Image:
    """A cube of ``field_mm`` around ``centre`` = (column, row, slice index) of a ``(Z, Y, X)`` volume."""
    if volume.pixels.ndim != 3 or len(centre) != 3:
        raise ValueError("a nodule centre needs a 3D volume and three numbers: column, row, slice")
    x, y, z = centre
    index = (z, y, x)
    slices = []
    for axis, (c, n, spacing) in enumerate(zip(index, volume.pixels.shape, volume.spacing)):
        if not 0 <= c < n:
            raise ValueError(f"nodule centre {tuple(centre)} lies outside the volume of shape "
                             f"{volume.pixels.shape[::-1]} (column, row, slice)")
        half = int(round(field_mm / 2 / spacing))
        slices.append(slice(max(0, int(c) - half), min(n, int(c) + half + 1)))
    return Image(pixels=volume.pixels[tuple(slices)].copy(), spacing=volume.spacing, modality=volume.modality,
                 metadata={**volume.metadata, "crop_centre": list(centre)}, source=volume.source)


def predict_images(model: ImagingModel, images: Sequence[Image], *, explain: bool = False,
                   prepared: np.ndarray | None = None) -> list[ImagingResult]:
    """Predict a batch of already-read images (one ONNX Runtime call per batch).

    ``prepared`` may hold the images' model inputs when the caller has already made them.
    """
    task = model.task
    if prepared is not None:
        X = prepared
    elif images:
        X = np.stack([task.prepare(image) for image in images])
    else:
        X = np.zeros((0, task.channels, *task.size), dtype=np.float32)
    proba = model.predict_proba(X)
    identity = model.package.identity()
    results = []
    for image, x, p in zip(images, X, proba):
        overlay = saliency_png(x, model.explain(x, int(np.argmax(p)))) if explain else None
        results.append(ImagingResult(
            source=image.source, task=task, model_id=identity["model_id"], model_version=identity["model_version"],
            weights_sha256=identity["weights_sha256"], probabilities=[float(v) for v in p],
            positive_probability=float(model.positive_probability(p[None])[0]), threshold=model.threshold,
            input_sha256=hashlib.sha256(x.tobytes()).hexdigest(), overlay_png=overlay,
            metadata={k: image.metadata[k] for k in ("modality", "format") if k in image.metadata}))
    return results


def predict_paths(model: ImagingModel, inputs: Iterable[str | Path], *, centre: Sequence[float] | None = None,
                  explain: bool = False, batch_size: int = 32,
                  on_error: Callable[[Path, Exception], None] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> list[ImagingResult]:
    """Predict every input (folders expanded). A file that cannot be read or prepared for the model
    raises, or goes to ``on_error`` while the rest are scored."""
    paths = collect_inputs(inputs, model.task)
    results: list[ImagingResult] = []
    for start in range(0, len(paths), batch_size):
        batch: list[Image] = []
        arrays: list[np.ndarray] = []
        for path in paths[start:start + batch_size]:
            try:
                image = read_for_task(path, model.task, centre)
                image.source = str(path)
                arrays.append(model.task.prepare(image))
                batch.append(image)
            except (ImageReadError, ValueError) as exc:
                if on_error is None:
                    raise
                on_error(path, exc)
        if batch:
            results.extend(predict_images(model, batch, explain=explain, prepared=np.stack(arrays)))
        if progress:
            progress(min(start + batch_size, len(paths)), len(paths))
    return results


def write_predictions_csv(results: Sequence[ImagingResult], out: str | Path, task: ImagingTask) -> Path:
    """``path,prediction,prob_0..prob_K`` (and ``prob_referable`` for DR grading) per result."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = ["path", "prediction"] + [f"prob_{k}" for k in range(len(task.classes))]
    referable = not task.binary
    if referable:
        columns.append("prob_referable")
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for r in results:
            row = [r.source, r.prediction, *(f"{p:.6f}" for p in r.probabilities)]
            if referable:
                row.append(f"{r.positive_probability:.6f}")
            writer.writerow(row)
    return out


def overlay_name(source: str) -> str:
    """A file name for a result's overlay that stays unique across folders."""
    name = Path(source).name
    for suffix in sorted(IMAGE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    stem = name or "image"
    return f"{stem}-{hashlib.sha256(source.encode()).hexdigest()[:8]}.png"
