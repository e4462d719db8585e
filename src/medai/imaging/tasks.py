"""The imaging tasks medai ships: what goes in, what comes out, and how an image becomes model input.

One :class:`ImagingTask` per model package. ``prepare`` turns any :class:`Image` (DICOM, NIfTI,
PNG, JPEG) into the float array the network reads, so training and prediction share one path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medai.imaging.image import Image


@dataclass(frozen=True)
class ImagingTask:
    """A model's contract: input kind and size, classes, and which classes make the positive finding.

    ``flip_axes`` are the axes (from the end) along which a mirrored image is still a valid
    example: used by augmentation and test-time augmentation.
    """

    name: str
    title: str
    classes: tuple[str, ...]
    positive_classes: tuple[int, ...]
    finding: str
    spatial_dims: int
    channels: int
    size: tuple[int, ...]
    dataset: str
    body_site: str
    modality: str
    loinc: str
    flip_axes: tuple[int, ...] = (-1,)

    @property
    def binary(self) -> bool:
        """True for two-class tasks, whose ``prob_1`` is the positive class."""
        return len(self.classes) == 2

    def prepare(self, image: Image) -> np.ndarray:
        """Model input, float32 ``(C, *size)`` scaled to 0-1."""
        if self.spatial_dims == 3:
            return _prepare_ct(image, self.size)[None]
        pixels = _to_channels(image, self.channels)
        if self.name in ("dr-grade",):
            pixels = _crop_fundus(pixels)
        pixels = _scale_unit(pixels)
        return _letterbox(pixels, self.size)


ICDR = ("no DR", "mild NPDR", "moderate NPDR", "severe NPDR", "proliferative DR")

TASKS: dict[str, ImagingTask] = {t.name: t for t in [
    ImagingTask("dr-grade", "Diabetic retinopathy grade (ICDR 0-4) from a colour fundus photograph", ICDR,
                (2, 3, 4), "referable diabetic retinopathy (ICDR grade 2 or higher)", 2, 3, (320, 320), "idrid",
                "retina", "XC", "71490-0", (-1, -2)),
    ImagingTask("retinamnist", "Diabetic retinopathy grade (0-4) at RetinaMNIST's 28 px", ICDR, (2, 3, 4),
                "referable diabetic retinopathy (grade 2 or higher)", 2, 3, (28, 28), "retinamnist", "retina", "XC",
                "71490-0", (-1, -2)),
    ImagingTask("lung-nodule-malignancy", "Malignancy of a lung nodule on CT", ("benign", "malignant"), (1,),
                "malignant lung nodule", 3, 1, (32, 32, 32), "lidc_vois", "lung", "CT", "18782-3", (-1, -2, -3)),
    ImagingTask("fracture", "Fracture on a musculoskeletal radiograph", ("no fracture", "fracture"), (1,),
                "fracture", 2, 1, (256, 256), "fracatlas", "musculoskeletal", "DX", "18782-3", (-1, -2)),
    ImagingTask("pneumonia-cxr", "Pneumonia on a chest X-ray (28 px, PneumoniaMNIST)", ("normal", "pneumonia"),
                (1,), "pneumonia", 2, 1, (28, 28), "pneumoniamnist", "chest", "CR", "18782-3"),
]}

NODULE_SPACING_MM = 1.25
HU_WINDOW = (-1000.0, 400.0)


def get_task(name: str) -> ImagingTask:
    """The task called ``name``; the error lists the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown imaging model {name!r}; known: {', '.join(TASKS)}") from None


def _to_channels(image: Image, channels: int) -> np.ndarray:
    pixels = image.pixels
    if pixels.ndim == 3 and not image.is_rgb:  # a multi-frame 2D image: use the middle frame
        pixels = pixels[pixels.shape[0] // 2]
        rgb = False
    else:
        rgb = image.is_rgb
    if rgb and channels == 1:
        return (pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[None]
    if rgb:
        return np.moveaxis(pixels, -1, 0)
    return np.repeat(pixels[None], channels, axis=0)


def _scale_unit(pixels: np.ndarray) -> np.ndarray:
    low, high = np.percentile(pixels, [0.5, 99.5])
    if high - low < 1e-6:  # nearly uniform: fall back to the full range
        low, high = float(pixels.min()), float(pixels.max())
    if high - low < 1e-6:
        return np.zeros_like(pixels, dtype=np.float32)
    return np.clip((pixels - low) / (high - low), 0.0, 1.0).astype(np.float32)


def _crop_fundus(pixels: np.ndarray) -> np.ndarray:
    """Crop a fundus photo to the bright disc of the retina (drops the black border)."""
    brightness = pixels.mean(axis=0)
    mask = brightness > 0.08 * max(float(brightness.max()), 1e-6)
    rows, cols = np.where(mask.any(axis=1))[0], np.where(mask.any(axis=0))[0]
    if len(rows) < 8 or len(cols) < 8:
        return pixels
    return pixels[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _letterbox(pixels: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    """Resize keeping the aspect ratio, padding with zeros to ``size``."""
    import torch
    import torch.nn.functional as F

    _, h, w = pixels.shape
    scale = min(size[0] / h, size[1] / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    tensor = torch.from_numpy(np.ascontiguousarray(pixels))[None]
    resized = F.interpolate(tensor, size=(nh, nw), mode="bilinear", align_corners=False, antialias=scale < 1)[0]
    out = torch.zeros((pixels.shape[0], *size), dtype=torch.float32)
    top, left = (size[0] - nh) // 2, (size[1] - nw) // 2
    out[:, top:top + nh, left:left + nw] = resized
    return out.clamp_(0, 1).numpy()


def _prepare_ct(image: Image, size: tuple[int, ...]) -> np.ndarray:
    """A CT nodule crop: resampled to 1.25 mm, HU windowed to 0-1, centre-cropped or padded to ``size``."""
    from medai.imaging.io import resample

    if image.pixels.ndim != 3 or image.is_rgb:
        raise ValueError(f"{image.source or 'image'}: the nodule model needs a 3D CT volume, got shape "
                         f"{image.pixels.shape}")
    volume = resample(image, NODULE_SPACING_MM).pixels
    low, high = HU_WINDOW
    volume = np.clip((volume - low) / (high - low), 0.0, 1.0)
    out = np.zeros(size, dtype=np.float32)
    src, dst = [], []
    for have, want in zip(volume.shape, size):
        if have >= want:
            start = (have - want) // 2
            src.append(slice(start, start + want))
            dst.append(slice(0, want))
        else:
            start = (want - have) // 2
            src.append(slice(0, have))
            dst.append(slice(start, start + have))
    out[tuple(dst)] = volume[tuple(src)]
    return out

