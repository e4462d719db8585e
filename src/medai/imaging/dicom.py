"""DICOM: single files, multi-frame, and series assembled by slice position.

CT is rescaled to Hounsfield units, MONOCHROME1 inverted, spacing read from the pixel-spacing
attributes. Compressed transfer syntaxes decode through pydicom's optional plugins.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medai.imaging.image import Image, ImageReadError, PathLike, check_file, finite_float32, require_module

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





def _dcmread(path: Path, *, stop_before_pixels: bool = False):
    pydicom = require_module("pydicom", path)
    errors = require_module("pydicom.errors", path)
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
    p = check_file(path)
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
        pixels=finite_float32(p, pixels),
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
            ds = _dcmread(check_file(f), stop_before_pixels=True)
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


