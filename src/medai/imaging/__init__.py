"""Imaging application: reading DICOM / NIfTI / PNG / JPEG into :class:`~medai.imaging.io.Image`.

Submodules import their heavy dependencies lazily (``pip install medai[imaging]``).
"""

from medai.imaging.io import (
    WINDOW_PRESETS,
    Image,
    ImageReadError,
    read_dicom,
    read_dicom_series,
    read_image,
    read_nifti,
    resample,
    window,
)

__all__ = [
    "WINDOW_PRESETS",
    "Image",
    "ImageReadError",
    "read_dicom",
    "read_dicom_series",
    "read_image",
    "read_nifti",
    "resample",
    "window",
]
