"""Reading medical images into one array type: DICOM (single files, multi-frame, series), NIfTI, PNG/JPEG.

Every reader returns an :class:`Image`: float32 pixels plus the physical spacing of each spatial
axis, so that the applications never deal with file formats. Axes are ordered ``(H, W)`` for 2D
images and ``(Z, H, W)`` for volumes (NIfTI volumes are transposed into that order too); RGB images
carry a trailing channel axis that has no spacing.

Anything that cannot be read raises :class:`ImageReadError` (a ``ValueError``) whose message names
the file and says what is wrong and, where possible, how to fix it.

The heavy dependencies (pydicom, nibabel, pillow, scipy) are imported lazily; install them with
``pip install medai[imaging]``. Compressed DICOM transfer syntaxes need pydicom's optional decoder
plugins (``pylibjpeg``, ``pylibjpeg-libjpeg``, ``pylibjpeg-openjpeg``, ``pylibjpeg-rle``).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medai.imaging.dicom import read_dicom, read_dicom_series
from medai.imaging.image import Image, ImageReadError, PathLike, check_file, finite_float32, require_module

__all__ = [
    "Image",
    "ImageReadError",
    "WINDOW_PRESETS",
    "read_image",
    "read_dicom",
    "read_dicom_series",
    "read_nifti",
    "window",
    "resample",
]

#: Named display windows as (center, width), in Hounsfield units.
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (40.0, 400.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
}


# ----------------------------------------------------------------------------------------------
# dispatch by content

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_NIFTI1_MAGICS = (b"n+1\x00", b"ni1\x00")
_NIFTI2_MAGICS = (b"n+2\x00", b"ni2\x00")


def _sniff(path: Path) -> str | None:
    """Return 'dicom', 'nifti', 'png', 'jpeg' or None from the first bytes of the file."""
    with open(path, "rb") as fh:
        head = fh.read(540)
    if head[:2] == b"\x1f\x8b":  # gzip: look inside for a NIfTI header
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(540)
        except (OSError, EOFError, zlib.error):
            return None
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if len(head) >= 348 and head[344:348] in _NIFTI1_MAGICS:
        return "nifti"
    if len(head) >= 8 and head[4:8] in _NIFTI2_MAGICS:
        return "nifti"
    if head.startswith(_PNG_MAGIC):
        return "png"
    if head.startswith(_JPEG_MAGIC):
        return "jpeg"
    # DICOM written without the 128-byte preamble: starts with a little-endian tag of the file meta
    # group (0002) or of the identifying group (0008) - old ACR-NEMA style files.
    if len(head) >= 8 and head[:2] in (b"\x02\x00", b"\x08\x00") and head[2:4] in (
        b"\x00\x00",
        b"\x01\x00",
        b"\x05\x00",
        b"\x08\x00",
        b"\x10\x00",
        b"\x12\x00",
        b"\x16\x00",
        b"\x18\x00",
    ):
        return "dicom"
    if len(head) >= 8 and head[:2] in (b"\x00\x02", b"\x00\x08") and head[2] == 0:  # big endian
        return "dicom"
    return None


def read_image(path: PathLike) -> Image:
    """Read any supported image, choosing the reader from the file's content (not its name).

    DICOM files (with or without preamble), NIfTI-1/2 (optionally gzipped), PNG and JPEG are
    supported; a folder is read as a DICOM series.
    """
    p = Path(path)
    if p.is_dir():
        return read_dicom_series(p)
    p = check_file(p)
    kind = _sniff(p)
    if kind == "dicom":
        return read_dicom(p)
    if kind == "nifti":
        return read_nifti(p)
    if kind in ("png", "jpeg"):
        return _read_pillow(p)
    raise ImageReadError(p, "not a DICOM, NIfTI, PNG or JPEG file")


# ----------------------------------------------------------------------------------------------
# PNG / JPEG


def _read_pillow(path: Path) -> Image:
    pil = require_module("PIL.Image", path)
    ops = require_module("PIL.ImageOps", path)
    try:
        with pil.open(path) as img:
            fmt = img.format or ""
            img.load()
            img = ops.exif_transpose(img)
            mode = img.mode
            if mode in ("RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa"):
                img = img.convert("RGB")
            elif mode in ("1", "LA", "La"):
                img = img.convert("L")
            dpi = img.info.get("dpi")
            pixels = np.asarray(img)
    except ImageReadError:
        raise
    except Exception as exc:  # pillow raises many types for broken files
        raise ImageReadError(path, f"corrupt or truncated image data ({type(exc).__name__}: {exc})") from exc
    rgb = pixels.ndim == 3
    spacing: tuple[float, float] = (1.0, 1.0)
    spacing_known = False
    if dpi and len(dpi) == 2 and all(float(d) > 1 for d in dpi):
        spacing = (25.4 / float(dpi[1]), 25.4 / float(dpi[0]))
        spacing_known = True
    return Image(
        pixels=finite_float32(path, pixels),
        spacing=spacing,
        modality="OT",
        photometric="RGB" if rgb else "MONOCHROME2",
        metadata={"format": fmt, "mode": mode, "spacing_known": spacing_known},
        source=str(path),
    )


# ----------------------------------------------------------------------------------------------
# NIfTI


MAX_NIFTI_VOXELS = 2**29
"""Largest volume read (2 GiB as float32): a header declaring more is refused before any allocation."""


def read_nifti(path: PathLike) -> Image:
    """Read a NIfTI-1/2 volume reoriented to RAS+, as ``(Z, Y, X)`` with spacing from the zooms.

    After reorientation the array axes run Right, Anterior, Superior; they are reversed so that
    axis 0 is the superior (slice) axis, matching DICOM volumes. A 4th dimension of length one is
    dropped; longer ones become a trailing channel axis (``photometric`` is then ``"MULTI"``).
    """
    p = check_file(path)
    nib = require_module("nibabel", p)
    try:
        img = nib.load(str(p))
        if not hasattr(img, "affine") or img.affine is None:
            raise ImageReadError(p, "NIfTI file has no spatial affine")
        voxels = int(np.prod([int(n) for n in img.shape], dtype=object))
        if voxels > MAX_NIFTI_VOXELS:
            raise ImageReadError(p, f"NIfTI header declares {'x'.join(str(n) for n in img.shape)} = {voxels} voxels, "
                                    f"over the limit of {MAX_NIFTI_VOXELS}")
        img = nib.as_closest_canonical(img)
        data = np.asarray(img.get_fdata(dtype=np.float32))
        zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
        affine = np.asarray(img.affine, dtype=float)
    except ImageReadError:
        raise
    except Exception as exc:
        raise ImageReadError(p, f"corrupt or unreadable NIfTI file ({type(exc).__name__}: {exc})") from exc
    while data.ndim > 4 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim not in (3, 4):
        raise ImageReadError(p, f"unsupported NIfTI dimensionality {data.shape}")
    zooms = (zooms + (1.0, 1.0, 1.0))[:3]
    if data.ndim == 3:
        pixels = np.transpose(data, (2, 1, 0))
    else:
        pixels = np.transpose(data, (2, 1, 0, 3))
    spacing = tuple(abs(z) if z else 1.0 for z in reversed(zooms))
    return Image(
        pixels=finite_float32(p, pixels),
        spacing=spacing,
        modality="OT",
        photometric="MULTI" if pixels.ndim == 4 else "MONOCHROME2",
        metadata={
            "format": "NIfTI",
            "orientation": "RAS (array axes reversed: Z=S, H=A, W=R)",
            "affine_ras": affine.tolist(),
        },
        source=str(p),
    )



# ----------------------------------------------------------------------------------------------
# display and geometry


def window(pixels: np.ndarray | Image, center: float | str, width: float | None = None) -> np.ndarray:
    """Map values through a linear display window to float32 in ``[0, 1]``.

    ``center`` may be a preset name from :data:`WINDOW_PRESETS` (``"lung"``, ``"mediastinum"``,
    ``"bone"``, ``"brain"``), in which case ``width`` is taken from the preset.
    """
    if isinstance(pixels, Image):
        pixels = pixels.pixels
    if isinstance(center, str):
        if center not in WINDOW_PRESETS:
            raise ValueError(f"unknown window preset {center!r}; choose one of {sorted(WINDOW_PRESETS)}")
        center, preset_width = WINDOW_PRESETS[center]
        width = preset_width if width is None else width
    if width is None or not width > 0:
        raise ValueError(f"window width must be a positive number, got {width!r}")
    lo = float(center) - float(width) / 2.0
    out = (np.asarray(pixels, dtype=np.float32) - np.float32(lo)) / np.float32(width)
    return np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)


def resample(image: Image, target_spacing: float | Sequence[float | None]) -> Image:
    """Resample to ``target_spacing`` (mm per spatial axis; a number means isotropic; ``None`` keeps
    an axis) with linear interpolation. The returned spacing is the exact one reached after
    rounding the shape, ``old_spacing * old_size / new_size``.
    """
    ndimage = require_module("scipy.ndimage")
    n_spatial = len(image.spatial_shape)
    if len(image.spacing) != n_spatial:
        raise ValueError(f"image has {n_spatial} spatial axes but {len(image.spacing)} spacings")
    if isinstance(target_spacing, (int, float)):
        target = [float(target_spacing)] * n_spatial
    else:
        target = list(target_spacing)
        if len(target) != n_spatial:
            raise ValueError(f"target_spacing needs {n_spatial} values (one per spatial axis), got {len(target)}")
    target = [old if t is None else float(t) for old, t in zip(image.spacing, target)]
    if any(not t > 0 for t in target):
        raise ValueError(f"target spacing must be positive, got {target}")
    shape = image.spatial_shape
    new_shape = [max(1, int(round(n * old / t))) for n, old, t in zip(shape, image.spacing, target)]
    factors = [new / n for new, n in zip(new_shape, shape)]
    if image.pixels.ndim > n_spatial:
        factors.append(1.0)
    pixels = ndimage.zoom(image.pixels, factors, order=1, mode="nearest", grid_mode=True)
    spacing = tuple(old * n / new for old, n, new in zip(image.spacing, shape, pixels.shape))
    return Image(
        pixels=pixels.astype(np.float32, copy=False),
        spacing=spacing,
        modality=image.modality,
        photometric=image.photometric,
        metadata={**image.metadata, "resampled_from": tuple(image.spacing)},
        source=image.source,
    )
