"""medai.imaging.io: synthetic files (fast, no data) and the public DICOM / NIfTI samples (marked ``data``)."""

from __future__ import annotations

import collections
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
pytest.importorskip("nibabel")
PIL_Image = pytest.importorskip("PIL.Image")

from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid  # noqa: E402

from medai.imaging import (  # noqa: E402
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

# ---------------------------------------------------------------------------------------------
# synthetic fixtures


def _write_dicom(
    path: Path,
    stored: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    slope: float | None = None,
    intercept: float | None = None,
    modality: str = "CT",
    position: tuple[float, float, float] | None = None,
    series_uid: str | None = None,
    instance: int = 1,
    signed: bool = False,
) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.3.4"
    ds.SeriesInstanceUID = series_uid or "1.2.3.4.5"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "SECRET-ID"
    ds.Modality = modality
    ds.BodyPartExamined = "CHEST"
    ds.InstanceNumber = instance
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelSpacing = [0.7, 0.8]
    if slope is not None:
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
    if position is not None:
        ds.ImagePositionPatient = list(position)
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelData = stored.astype(np.int16 if signed else np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_ct_rescale_to_hu_and_spacing(tmp_path):
    stored = np.array([[0, 1024], [2024, 24]], dtype=np.uint16)
    img = read_dicom(_write_dicom(tmp_path / "ct.dcm", stored, slope=1, intercept=-1024))
    assert img.pixels.dtype == np.float32
    np.testing.assert_array_equal(img.pixels, [[-1024, 0], [1000, -1000]])
    assert img.spacing == (0.7, 0.8)
    assert img.modality == "CT"
    assert img.metadata["BodyPartExamined"] == "CHEST"
    assert img.metadata["SeriesInstanceUID"] == "1.2.3.4.5"
    text = repr(img.metadata)
    assert "Doe" not in text and "SECRET-ID" not in text


def test_monochrome1_is_inverted(tmp_path):
    stored = np.array([[0, 100], [65535, 30000]], dtype=np.uint16)
    m1 = read_dicom(_write_dicom(tmp_path / "m1.dcm", stored, photometric="MONOCHROME1", modality="CR"))
    m2 = read_dicom(_write_dicom(tmp_path / "m2.dcm", stored, photometric="MONOCHROME2", modality="CR"))
    assert m1.photometric == "MONOCHROME2"
    assert m1.metadata["source_photometric"] == "MONOCHROME1"
    np.testing.assert_array_equal(m1.pixels, 65535 - m2.pixels)
    assert m1.pixels[0, 0] > m1.pixels[1, 0]  # stored 0 is white in MONOCHROME1


def test_series_is_ordered_by_position_and_checks_sizes(tmp_path):
    folder = tmp_path / "series"
    folder.mkdir()
    zs = [10.0, 4.0, 7.0]  # written out of order
    for i, z in enumerate(zs):
        stored = np.full((4, 5), int(z), dtype=np.uint16)
        _write_dicom(folder / f"s{i}.dcm", stored, position=(0.0, 0.0, z), instance=len(zs) - i)
    (folder / "notes.txt").write_text("not an image")
    vol = read_dicom_series(folder)
    assert vol.pixels.shape == (3, 4, 5)
    assert vol.spacing == (3.0, 0.7, 0.8)
    np.testing.assert_array_equal(vol.pixels[:, 0, 0], [4, 7, 10])
    assert vol.metadata["slice_order"] == "ImagePositionPatient"

    odd = _write_dicom(tmp_path / "odd.dcm", np.zeros((6, 6), np.uint16), position=(0.0, 0.0, 13.0))
    with pytest.raises(ImageReadError, match="odd.dcm.*does not match"):
        read_dicom_series(sorted(folder.glob("*.dcm")) + [odd])


def test_series_with_two_series_needs_a_choice(tmp_path):
    for i, uid in enumerate(["1.1", "1.2"]):
        _write_dicom(tmp_path / f"{i}.dcm", np.zeros((2, 2), np.uint16), series_uid=uid, position=(0, 0, i))
    with pytest.raises(ImageReadError, match="2 series"):
        read_dicom_series(tmp_path)
    assert read_dicom_series(tmp_path, series_uid="1.2").pixels.shape == (1, 2, 2)


def test_png_round_trip_and_dispatch_by_content(tmp_path):
    gray = (np.arange(48, dtype=np.uint8).reshape(6, 8)) * 5
    path = tmp_path / "image.data"  # the name says nothing: the content decides
    PIL_Image.fromarray(gray).save(path, format="PNG")
    img = read_image(path)
    assert img.pixels.shape == (6, 8) and img.pixels.dtype == np.float32
    np.testing.assert_array_equal(img.pixels, gray)

    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    PIL_Image.fromarray(rgb).save(tmp_path / "rgb.png")
    img = read_image(tmp_path / "rgb.png")
    assert img.photometric == "RGB" and img.pixels.shape == (5, 7, 3)
    np.testing.assert_array_equal(img.pixels, rgb)

    PIL_Image.fromarray(rgb).save(tmp_path / "rgb.jpg", quality=95)
    assert read_image(tmp_path / "rgb.jpg").pixels.shape == (5, 7, 3)


def test_nifti_synthetic_spacing_and_orientation(tmp_path):
    import nibabel as nib

    data = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)  # (x, y, z)
    affine = np.diag([0.5, 0.75, 2.5, 1.0])
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "vol.nii.gz")
    img = read_image(tmp_path / "vol.nii.gz")
    assert img.pixels.shape == (4, 3, 2)  # (z, y, x)
    assert img.spacing == (2.5, 0.75, 0.5)
    np.testing.assert_array_equal(img.pixels, data.transpose(2, 1, 0))


def test_errors_name_the_file(tmp_path):
    text = tmp_path / "hello.txt"
    text.write_text("just some words, not pixels\n" * 20)
    with pytest.raises(ImageReadError, match=r"hello\.txt.*not a DICOM, NIfTI, PNG or JPEG file"):
        read_image(text)

    good = _write_dicom(tmp_path / "full.dcm", np.ones((64, 64), np.uint16), slope=1, intercept=-1024)
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(good.read_bytes()[:-3000])
    with pytest.raises(ImageReadError, match=r"truncated\.dcm.*(corrupt|truncated)") as info:
        read_image(truncated)
    assert isinstance(info.value, ValueError)

    with pytest.raises(ImageReadError, match="file not found"):
        read_image(tmp_path / "missing.dcm")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        read_image(empty)
    bad_png = tmp_path / "bad.png"
    bad_png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(ImageReadError, match="bad.png"):
        read_image(bad_png)


def test_window_presets_map_into_unit_interval():
    hu = np.linspace(-2000, 3000, 101, dtype=np.float32)
    for name, (center, width) in WINDOW_PRESETS.items():
        out = window(hu, name)
        assert out.dtype == np.float32
        assert out.min() == 0.0 and out.max() == 1.0
        assert window(np.float32([center]), center, width)[0] == pytest.approx(0.5)
    assert set(WINDOW_PRESETS) >= {"lung", "mediastinum", "bone", "brain"}
    assert WINDOW_PRESETS["lung"] == (-600, 1500)
    with pytest.raises(ValueError, match="width"):
        window(hu, 0, 0)
    with pytest.raises(ValueError, match="preset"):
        window(hu, "liver-ish")


def test_resample_halves_shape_when_spacing_doubles():
    img = Image(pixels=np.random.default_rng(1).random((8, 16, 20), dtype=np.float32), spacing=(1.0, 0.5, 0.5))
    out = resample(img, (2.0, 1.0, 1.0))
    assert out.pixels.shape == (4, 8, 10)
    assert out.spacing == (2.0, 1.0, 1.0)
    assert out.pixels.dtype == np.float32
    assert abs(float(out.pixels.mean()) - float(img.pixels.mean())) < 0.05

    rgb = Image(pixels=np.zeros((10, 12, 3), np.float32), spacing=(0.1, 0.1), photometric="RGB")
    assert resample(rgb, 0.2).pixels.shape == (5, 6, 3)
    assert resample(rgb, (None, 0.2)).pixels.shape == (10, 6, 3)


# ---------------------------------------------------------------------------------------------
# the public sample files

DICOM_ZIPS = ("pydicom_test_files.zip", "pydicom_data_store.zip", "highdicom_test_files.zip")


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    root = Path(os.environ["MEDAI_DATA_DIR"])
    out = tmp_path_factory.mktemp("samples")
    for name in DICOM_ZIPS:
        with zipfile.ZipFile(root / "dicom_samples" / name) as archive:
            archive.extractall(out / Path(name).stem)
    with zipfile.ZipFile(root / "nifti_samples" / "monai_test_nifti.zip") as archive:
        archive.extractall(out / "nifti")
    return out


def _find(root: Path, name: str) -> Path:
    matches = sorted(root.rglob(name))
    assert matches, f"{name} not in the samples"
    return matches[0]


def _is_dicom_candidate(path: Path) -> bool:
    if path.suffix.lower() == ".dcm" or path.name.startswith("DICOMDIR"):
        return True
    with open(path, "rb") as fh:
        head = fh.read(132)
    return head[128:132] == b"DICM" or (path.suffix == "" and "dicomdirtests" in path.parts)


@pytest.mark.data
@pytest.mark.filterwarnings("ignore")
def test_every_sample_dicom_loads_or_is_refused_clearly(samples):
    loaded, refused = 0, collections.Counter()
    files = [f for f in sorted(samples.rglob("*")) if f.is_file() and "nifti" not in f.parts and _is_dicom_candidate(f)]
    assert len(files) > 200
    for f in files:
        try:
            img = read_image(f)
        except ImageReadError as exc:
            assert str(f) in str(exc)
            assert len(exc.problem) > 10
            refused[exc.problem.split(" (")[0].split(":")[0]] += 1
            continue
        loaded += 1
        spatial = img.spatial_shape
        assert img.pixels.dtype == np.float32 and np.isfinite(img.pixels).all()
        assert len(spatial) in (2, 3) and len(img.spacing) == len(spatial)
        assert all(s > 0 for s in img.spacing)
        if img.is_rgb:
            assert img.pixels.shape[-1] == 3
    summary = f"loaded {loaded}, refused {sum(refused.values())}: {dict(refused)}"
    print(summary)
    # compressed syntaxes decode through the optional plugins when they are installed
    assert loaded >= 100, summary


@pytest.mark.data
def test_ct_small_is_in_hounsfield_units(samples):
    img = read_dicom(_find(samples, "CT_small.dcm"))
    assert img.modality == "CT" and img.pixels.shape == (128, 128)
    assert img.metadata["rescale"][1] == -1024
    assert -1100 < img.pixels.min() < -500  # air / lung around -1000 .. -800 HU
    assert img.pixels.max() < 3100  # nothing denser than cortical bone / contrast
    assert img.spacing == pytest.approx((0.661468, 0.661468))
    assert window(img, "mediastinum").max() <= 1.0


@pytest.mark.data
@pytest.mark.filterwarnings("ignore")
def test_monochrome1_sample_is_inverted(samples):
    path = samples / "pydicom_test_files" / "test_files" / "dicomdirtests" / "77654033" / "CR1" / "6154"
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    img = read_dicom(path)
    stored = ds.pixel_array.astype(np.float32)
    corr = np.corrcoef(stored.ravel(), img.pixels.ravel())[0, 1]
    assert corr < -0.99
    assert img.photometric == "MONOCHROME2"


@pytest.mark.data
@pytest.mark.filterwarnings("ignore")
def test_dicomdir_ct_series_assembles_in_order(samples):
    folder = samples / "pydicom_test_files" / "test_files" / "dicomdirtests" / "77654033" / "CT2"
    vol = read_dicom_series(folder)
    assert vol.pixels.shape[0] == 4 and vol.pixels.ndim == 3
    assert vol.spacing[0] > 0
    positions = vol.metadata["slice_positions"]
    assert positions == sorted(positions)
    assert vol.modality == "CT"
    assert read_image(folder).pixels.shape == vol.pixels.shape


@pytest.mark.data
def test_nifti_sample_spacing_from_header(samples):
    import nibabel as nib

    path = _find(samples, "anatomical.nii")
    img = read_nifti(path)
    zooms = nib.load(str(path)).header.get_zooms()[:3]
    assert sorted(img.spacing) == pytest.approx(sorted(float(z) for z in zooms))
    assert img.pixels.ndim == 3 and np.isfinite(img.pixels).all()
    assert sorted(img.pixels.shape) == sorted(nib.load(str(path)).shape[:3])
    assert read_image(path).pixels.shape == img.pixels.shape
    assert read_image(_find(samples, "anatomical_label.nii.gz")).pixels.shape == img.pixels.shape


@pytest.mark.data
@pytest.mark.filterwarnings("ignore")
def test_compressed_sample_decodes_like_uncompressed(samples):
    from pydicom.pixels import get_decoder
    from pydicom.uid import JPEG2000Lossless

    if not get_decoder(JPEG2000Lossless).is_available:
        with pytest.raises(ImageReadError, match="pylibjpeg"):
            read_dicom(_find(samples, "MR2_J2KR.dcm"))
        return
    lossless = read_dicom(_find(samples, "MR2_J2KR.dcm")).pixels
    raw = read_dicom(_find(samples, "MR2_UNCR.dcm")).pixels
    np.testing.assert_array_equal(lossless, raw)
