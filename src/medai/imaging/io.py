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
import importlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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

PathLike = str | os.PathLike[str]

#: Named display windows as (center, width), in Hounsfield units.
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (40.0, 400.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
}

_DECODER_HINT = (
    "install pydicom's decoder plugins: pip install pylibjpeg pylibjpeg-libjpeg "
    "pylibjpeg-openjpeg pylibjpeg-rle"
)

# DICOM attributes copied into Image.metadata. Deliberately no patient name / id / birth date,
# no dates, no institution or operator names: metadata must be safe to log.
_DICOM_METADATA_KEYWORDS = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "FrameOfReferenceUID",
    "BodyPartExamined",
    "SeriesDescription",
    "StudyDescription",
    "Manufacturer",
    "ManufacturerModelName",
    "ViewPosition",
    "Laterality",
    "ImageLaterality",
    "SeriesNumber",
    "InstanceNumber",
    "SliceThickness",
    "SpacingBetweenSlices",
    "KVP",
    "ConvolutionKernel",
    "RescaleType",
    "BitsStored",
    "PixelRepresentation",
)


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


# ----------------------------------------------------------------------------------------------
# helpers


def _require(module: str, path: PathLike | None = None) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        message = f"reading this file needs '{module}'; install it with: pip install medai[imaging]"
        if path is not None:
            raise ImageReadError(path, message) from exc
        raise ImportError(message) from exc


def _check_file(path: PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise ImageReadError(p, "file not found")
    if p.is_dir():
        raise ImageReadError(p, "is a folder, not a file (use read_dicom_series for a DICOM series)")
    if p.stat().st_size == 0:
        raise ImageReadError(p, "file is empty")
    return p


def _finite_float32(path: PathLike, pixels: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(pixels, dtype=np.float32)
    if out.size == 0:
        raise ImageReadError(path, "image has no pixels")
    if not np.all(np.isfinite(out)):
        raise ImageReadError(path, "pixel data contains NaN or infinite values")
    return out


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
        except (OSError, EOFError):
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
    p = _check_file(p)
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
    pil = _require("PIL.Image", path)
    ops = _require("PIL.ImageOps", path)
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
        pixels=_finite_float32(path, pixels),
        spacing=spacing,
        modality="OT",
        photometric="RGB" if rgb else "MONOCHROME2",
        metadata={"format": fmt, "mode": mode, "spacing_known": spacing_known},
        source=str(path),
    )


# ----------------------------------------------------------------------------------------------
# NIfTI


def read_nifti(path: PathLike) -> Image:
    """Read a NIfTI-1/2 volume reoriented to RAS+, as ``(Z, Y, X)`` with spacing from the zooms.

    After reorientation the array axes run Right, Anterior, Superior; they are reversed so that
    axis 0 is the superior (slice) axis, matching DICOM volumes. A 4th dimension of length one is
    dropped; longer ones become a trailing channel axis (``photometric`` is then ``"MULTI"``).
    """
    p = _check_file(path)
    nib = _require("nibabel", p)
    try:
        img = nib.load(str(p))
        if not hasattr(img, "affine") or img.affine is None:
            raise ImageReadError(p, "NIfTI file has no spatial affine")
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
        pixels=_finite_float32(p, pixels),
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
# DICOM


def _dcmread(path: Path, *, stop_before_pixels: bool = False):
    pydicom = _require("pydicom", path)
    errors = _require("pydicom.errors", path)
    try:
        try:
            return _with_transfer_syntax(pydicom.dcmread(str(path), stop_before_pixels=stop_before_pixels))
        except errors.InvalidDicomError:
            # no preamble / meta header: old ACR-NEMA style files still parse when forced
            ds = pydicom.dcmread(str(path), stop_before_pixels=stop_before_pixels, force=True)
            if len(ds) == 0 or not any(int(tag) >> 16 in (0x0008, 0x0018, 0x0020, 0x0028) for tag in ds.keys()):
                raise ImageReadError(path, "not a DICOM, NIfTI, PNG or JPEG file") from None
            return _with_transfer_syntax(ds)
    except ImageReadError:
        raise
    except (EOFError, OSError) as exc:
        raise ImageReadError(path, f"corrupt or truncated DICOM file ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:
        raise ImageReadError(path, f"corrupt DICOM file: cannot parse the header ({type(exc).__name__}: {exc})") from exc


def _with_transfer_syntax(ds):
    """Files without a file meta header: record the encoding they were read with as the transfer syntax."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        if implicit is None:
            implicit, little = True, True
        meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian
        )
    return ds


def _transfer_syntax(ds) -> Any:
    from pydicom.uid import ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    uid = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    return uid if uid is not None else ImplicitVRLittleEndian


def _check_decoder(path: Path, ds) -> None:
    """Raise a clear error when the transfer syntax cannot be decoded here."""
    from pydicom.pixels import get_decoder

    ts = _transfer_syntax(ds)
    try:
        name = ts.name
    except Exception:
        name = "unknown"
    if not ts.is_transfer_syntax:
        import pydicom

        raise ImageReadError(
            path,
            f"unsupported transfer syntax {ts}: not a transfer syntax known to pydicom {pydicom.__version__} "
            "(a newer pydicom may support it)",
        )
    if not ts.is_compressed:
        return
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise ImageReadError(
            path,
            f"unsupported transfer syntax {ts} ({name}): no pixel data decoder exists for it "
            "(video and some proprietary encodings are not supported); convert the file to an "
            "uncompressed or JPEG/JPEG 2000 transfer syntax",
        ) from None
    if not decoder.is_available:
        missing = "; ".join(str(m) for m in decoder.missing_dependencies)
        raise ImageReadError(
            path, f"unsupported transfer syntax {ts} ({name}): {_DECODER_HINT} (missing: {missing})"
        )


def _float_tuple(value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            return (float(value),)
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None


def _first_float(value: Any) -> float | None:
    values = _float_tuple(value)
    return values[0] if values else None


def _functional_item(ds, sequence: str, frame: int | None = None):
    """Yield items of a functional group macro (per-frame first, then shared)."""
    if frame is not None and "PerFrameFunctionalGroupsSequence" in ds:
        frames = ds.PerFrameFunctionalGroupsSequence
        if frame < len(frames) and sequence in frames[frame]:
            seq = frames[frame][sequence]
            if len(seq.value):
                yield seq.value[0]
    if "SharedFunctionalGroupsSequence" in ds and len(ds.SharedFunctionalGroupsSequence):
        shared = ds.SharedFunctionalGroupsSequence[0]
        if sequence in shared and len(shared[sequence].value):
            yield shared[sequence].value[0]


def _lookup(ds, keyword: str, macro: str, frame: int | None = None) -> Any:
    if keyword in ds and ds[keyword].value not in (None, ""):
        return ds[keyword].value
    for item in _functional_item(ds, macro, frame):
        if keyword in item and item[keyword].value not in (None, ""):
            return item[keyword].value
    return None


def _rescale(ds, arr: np.ndarray, n_frames: int, multi: bool) -> tuple[np.ndarray, float, float]:
    """Apply the modality LUT (rescale slope/intercept, per frame if needed); return slope/intercept used."""
    from pydicom.pixels import apply_modality_lut

    if "ModalityLUTSequence" in ds:
        return np.asarray(apply_modality_lut(arr, ds), dtype=np.float32), 1.0, 0.0
    out = arr.astype(np.float32)
    per_frame = multi and "PerFrameFunctionalGroupsSequence" in ds and "RescaleSlope" not in ds
    if per_frame:
        slopes, intercepts = [], []
        for i in range(n_frames):
            s = _first_float(_lookup(ds, "RescaleSlope", "PixelValueTransformationSequence", i))
            b = _first_float(_lookup(ds, "RescaleIntercept", "PixelValueTransformationSequence", i))
            slopes.append(1.0 if s is None else s)
            intercepts.append(0.0 if b is None else b)
        shape = (n_frames,) + (1,) * (out.ndim - 1)
        out = out * np.asarray(slopes, np.float32).reshape(shape) + np.asarray(intercepts, np.float32).reshape(shape)
        return out, slopes[0], intercepts[0]
    s = _first_float(_lookup(ds, "RescaleSlope", "PixelValueTransformationSequence"))
    b = _first_float(_lookup(ds, "RescaleIntercept", "PixelValueTransformationSequence"))
    slope = 1.0 if s is None else s
    intercept = 0.0 if b is None else b
    if slope != 1.0 or intercept != 0.0:
        out = out * np.float32(slope) + np.float32(intercept)
    return out, slope, intercept


def _pixel_spacing(ds) -> tuple[tuple[float, float], str]:
    for keyword, macro in (
        ("PixelSpacing", "PixelMeasuresSequence"),
        ("ImagerPixelSpacing", "PixelMeasuresSequence"),
        ("NominalScannedPixelSpacing", "PixelMeasuresSequence"),
    ):
        values = _float_tuple(_lookup(ds, keyword, macro))
        if values and len(values) >= 2 and values[0] > 0 and values[1] > 0:
            return (values[0], values[1]), keyword
    return (1.0, 1.0), "unknown"


def _metadata(ds, path: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {"format": "DICOM"}
    for keyword in _DICOM_METADATA_KEYWORDS:
        if keyword in ds:
            value = ds[keyword].value
            if value is None or value == "":
                continue
            if type(value).__name__ == "IS":
                value = int(value)
            elif type(value).__name__ in ("DSfloat", "DSdecimal"):
                value = float(value)
            elif not isinstance(value, (int, float)):
                value = str(value)
            meta[keyword] = value
    ts = _transfer_syntax(ds)
    meta["TransferSyntaxUID"] = str(ts)
    for keyword in ("ImagePositionPatient", "ImageOrientationPatient"):
        values = _float_tuple(_lookup(ds, keyword, "PlanePositionSequence" if "Position" in keyword else "PlaneOrientationSequence", 0))
        if values:
            meta[keyword] = list(values)
    center = _first_float(_lookup(ds, "WindowCenter", "FrameVOILUTSequence"))
    width = _first_float(_lookup(ds, "WindowWidth", "FrameVOILUTSequence"))
    if center is not None and width is not None and width > 0:
        meta["window"] = (center, width)
    return meta


def read_dicom(path: PathLike) -> Image:
    """Read one DICOM file: pixels in modality units (HU for CT), multi-frame files as ``(Z, H, W)``.

    Applies the modality LUT / rescale slope and intercept, inverts MONOCHROME1 so that higher is
    brighter, converts YBR and palette colour to RGB and reads pixel spacing (in-plane from
    PixelSpacing or ImagerPixelSpacing, between frames from the frame positions, SpacingBetweenSlices
    or SliceThickness).
    """
    p = _check_file(path)
    ds = _dcmread(p)
    if len(ds) == 0:
        raise ImageReadError(p, "corrupt or truncated DICOM file: no data elements after the file meta header")
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        kind = str(ds.SOPClassUID.name) if "SOPClassUID" in ds else ("DICOMDIR" if "DirectoryRecordSequence" in ds else "unknown SOP class")
        raise ImageReadError(p, f"DICOM file has no pixel data ({kind})")
    for keyword in ("Rows", "Columns"):
        if keyword not in ds or not ds[keyword].value:
            raise ImageReadError(p, f"DICOM file has pixel data but no {keyword} attribute")
    _check_decoder(p, ds)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.asarray(ds.pixel_array)
    except ImageReadError:
        raise
    except Exception as exc:
        detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise ImageReadError(p, f"corrupt or truncated pixel data ({type(exc).__name__}: {detail[:400]})") from exc

    source_photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    multi = n_frames > 1
    expected_ndim = 2 + int(multi) + int(samples > 1)
    if arr.ndim != expected_ndim:
        raise ImageReadError(p, f"decoded pixel array has shape {arr.shape}, expected {expected_ndim} dimensions")

    photometric = "MONOCHROME2"
    if source_photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        try:
            arr = np.asarray(apply_color_lut(arr, ds))
        except Exception as exc:
            raise ImageReadError(p, f"palette colour lookup table is missing or corrupt ({exc})") from exc
        photometric = "RGB"
        pixels = arr.astype(np.float32)
        slope, intercept = 1.0, 0.0
    elif samples > 1:
        photometric = "RGB"  # pydicom converts YBR_* to RGB by default
        pixels = arr.astype(np.float32)
        slope, intercept = 1.0, 0.0
    else:
        pixels, slope, intercept = _rescale(ds, arr, n_frames, multi)
        if source_photometric == "MONOCHROME1":
            bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
            if arr.dtype.kind == "f":
                lo_s, hi_s = float(arr.min()), float(arr.max())
            elif int(ds.get("PixelRepresentation", 0) or 0) == 1:
                lo_s, hi_s = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
            else:
                lo_s, hi_s = 0, 2**bits - 1
            ends = sorted((lo_s * slope + intercept, hi_s * slope + intercept))
            pixels = np.float32(ends[0] + ends[1]) - pixels

    (row_mm, col_mm), spacing_source = _pixel_spacing(ds)
    metadata = _metadata(ds, p)
    metadata["spacing_source"] = spacing_source
    metadata["rescale"] = (slope, intercept)
    if source_photometric != photometric:
        metadata["source_photometric"] = source_photometric
    modality = str(ds.get("Modality", "OT") or "OT")
    if modality == "CT" and slope == 1.0 and intercept == 0.0 and "RescaleIntercept" not in ds:
        metadata["hu_assumed"] = True  # CT without rescale tags: stored values taken as HU

    if multi:
        z = _frame_spacing(ds, n_frames)
        spacing: tuple[float, ...] = (z, row_mm, col_mm)
    else:
        spacing = (row_mm, col_mm)
    return Image(
        pixels=_finite_float32(p, pixels),
        spacing=spacing,
        modality=modality,
        photometric=photometric,
        metadata=metadata,
        source=str(p),
    )


def _frame_spacing(ds, n_frames: int) -> float:
    """Distance between frames of a multi-frame file (1.0 when unknown)."""
    orientation = _float_tuple(_lookup(ds, "ImageOrientationPatient", "PlaneOrientationSequence", 0))
    positions = []
    if orientation and len(orientation) == 6 and "PerFrameFunctionalGroupsSequence" in ds:
        normal = np.cross(np.asarray(orientation[:3]), np.asarray(orientation[3:]))
        for i in range(n_frames):
            pos = _float_tuple(_lookup(ds, "ImagePositionPatient", "PlanePositionSequence", i))
            if not pos or len(pos) != 3:
                positions = []
                break
            positions.append(float(np.dot(normal, pos)))
    if len(positions) > 1:
        steps = np.abs(np.diff(positions))
        steps = steps[steps > 1e-6]
        if steps.size:
            return float(np.median(steps))
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = _first_float(_lookup(ds, keyword, "PixelMeasuresSequence"))
        if value and value > 0:
            return value
    return 1.0


def _series_files(paths_or_folder: PathLike | Sequence[PathLike]) -> tuple[list[Path], bool]:
    if isinstance(paths_or_folder, (str, os.PathLike)):
        root = Path(paths_or_folder)
        if not root.exists():
            raise ImageReadError(root, "folder not found")
        if root.is_dir():
            files = sorted(f for f in root.rglob("*") if f.is_file() and f.name.upper() != "DICOMDIR")
            return files, True
        return [root], False
    return [Path(f) for f in paths_or_folder], False


def read_dicom_series(paths_or_folder: PathLike | Sequence[PathLike], series_uid: str | None = None) -> Image:
    """Assemble single-frame DICOM slices into a ``(Z, H, W)`` volume.

    ``paths_or_folder`` is a list of files or a folder (searched recursively; files that are not
    DICOM are skipped). Slices are grouped by SeriesInstanceUID - pass ``series_uid`` when there
    is more than one series - and ordered by ImagePositionPatient projected on the slice normal
    (falling back to InstanceNumber). The slice spacing comes from the positions.
    """
    files, from_folder = _series_files(paths_or_folder)
    label = str(paths_or_folder) if from_folder else (str(files[0]) if files else "<no files>")
    headers = []
    for f in files:
        try:
            ds = _dcmread(_check_file(f), stop_before_pixels=True)
        except ImageReadError:
            if from_folder:
                continue
            raise
        if from_folder and "PixelData" not in ds and "Rows" not in ds:
            continue
        headers.append((f, ds))
    if not headers:
        raise ImageReadError(label, "no DICOM image files found")

    groups: dict[str, list[tuple[Path, Any]]] = {}
    for f, ds in headers:
        groups.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((f, ds))
    if series_uid is not None:
        if series_uid not in groups:
            raise ImageReadError(label, f"series {series_uid} not found; series present: {sorted(groups)}")
        members = groups[series_uid]
    elif len(groups) > 1:
        raise ImageReadError(
            label, f"{len(groups)} series found ({sorted(groups)}); choose one with series_uid="
        )
    else:
        members = next(iter(groups.values()))

    keys = []
    normal = None
    for f, ds in members:
        orientation = _float_tuple(ds.get("ImageOrientationPatient"))
        position = _float_tuple(ds.get("ImagePositionPatient"))
        if normal is None and orientation and len(orientation) == 6:
            normal = np.cross(np.asarray(orientation[:3]), np.asarray(orientation[3:]))
        keys.append((position if position and len(position) == 3 else None, ds.get("InstanceNumber")))
    use_positions = normal is not None and all(pos is not None for pos, _ in keys)
    if use_positions:
        order_values = [float(np.dot(normal, pos)) for pos, _ in keys]
        ordering = "ImagePositionPatient"
    else:
        order_values = [float(n) if n not in (None, "") else float(i) for i, (_, n) in enumerate(keys)]
        ordering = "InstanceNumber"
    order = sorted(range(len(members)), key=lambda i: (order_values[i], str(members[i][0])))

    slices: list[Image] = []
    for i in order:
        img = read_dicom(members[i][0])
        if img.pixels.ndim != 2:
            raise ImageReadError(members[i][0], "multi-frame or colour file in a series; read it with read_dicom")
        if slices and img.pixels.shape != slices[0].pixels.shape:
            raise ImageReadError(
                members[i][0],
                f"slice size {img.pixels.shape} does not match {slices[0].pixels.shape} of {slices[0].source}",
            )
        slices.append(img)

    z = 1.0
    first = slices[0]
    uniform = True
    if use_positions and len(slices) > 1:
        steps = np.diff(sorted(order_values))
        if np.any(steps <= 1e-6):
            uniform = False  # duplicate positions
        steps = steps[steps > 1e-6]
        if steps.size:
            z = float(np.median(steps))
            uniform = uniform and bool(np.allclose(steps, z, rtol=0.01, atol=1e-3))
    else:
        thickness = first.metadata.get("SpacingBetweenSlices") or first.metadata.get("SliceThickness")
        if thickness and float(thickness) > 0:
            z = float(thickness)
    metadata = dict(first.metadata)
    metadata.update(
        {
            "n_slices": len(slices),
            "slice_order": ordering,
            "uniform_slice_spacing": uniform,
            "slice_positions": [order_values[i] for i in order] if use_positions else None,
            "files": [s.source for s in slices],
        }
    )
    metadata.pop("SOPInstanceUID", None)
    metadata.pop("InstanceNumber", None)
    return Image(
        pixels=np.stack([s.pixels for s in slices]).astype(np.float32, copy=False),
        spacing=(z,) + tuple(first.spacing),
        modality=first.modality,
        photometric=first.photometric,
        metadata=metadata,
        source=label,
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
    ndimage = _require("scipy.ndimage")
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
