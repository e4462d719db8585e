"""``medai imaging``: predict on every input type (PNG, JPEG, DICOM file, DICOM series, NIfTI, folders),
the CSV contract, overlays, bad files, and train / evaluate on the real data (marked ``data``).

Fast tests use tiny packages the tests train on random arrays (one epoch, a few hundred weights), so
they check the plumbing, not the medicine; the ``data`` tests also run the shipped packages when present.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("monai")
nibabel = pytest.importorskip("nibabel")
PIL_Image = pytest.importorskip("PIL.Image")

from typer.testing import CliRunner  # noqa: E402

from medai.cli.main import app  # noqa: E402
from medai.config import get_settings  # noqa: E402
from medai.imaging.predict import overlay_name  # noqa: E402
from medai.models import ModelRegistry, save_package  # noqa: E402
from tests.imaging.synthetic import tiny_card  # noqa: E402
from tests.imaging.test_io import _write_dicom  # noqa: E402

runner = CliRunner()
BINARY = ["path", "prediction", "prob_0", "prob_1"]
DR = ["path", "prediction", "prob_0", "prob_1", "prob_2", "prob_3", "prob_4", "prob_referable"]
TINY = ("pneumonia-cxr", "retinamnist", "dr-grade", "lung-nodule-malignancy")


def _tiny_package(root: Path, name: str) -> None:
    """Train ``name``'s network for one epoch on random arrays and package it as version 1.0.0."""
    from medai.imaging.model import ImageClassifier
    from medai.imaging.package import export_files
    from medai.imaging.tasks import get_task

    task = get_task(name)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (2 * len(task.classes), task.channels, *task.size)).astype(np.float32)
    y = np.arange(len(X)) % len(task.classes)
    model = ImageClassifier(name, epochs=1, batch_size=len(X), widths=(4, 4, 8, 8), threads=1, log=lambda _: None)
    save_package(root / f"{name}-1.0.0", tiny_card(name, "1.0.0"), export_files(model.fit(X, y), threshold=0.5))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for name in TINY:
        _tiny_package(root, name)
    return root


def _settings(monkeypatch, home: Path, model_dirs: list[Path]) -> None:
    monkeypatch.setenv("MEDAI_HOME", str(home))
    monkeypatch.setenv("MEDAI_MODEL_DIRS", json.dumps([str(d) for d in model_dirs]))
    get_settings.cache_clear()


@pytest.fixture
def tiny(tmp_path, monkeypatch, model_dir):
    """The tiny packages first in the registry (user folders win over shipped packages of the same version)."""
    _settings(monkeypatch, tmp_path / "home", [model_dir])
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """Only the packages shipped in medai/assets/models."""
    _settings(monkeypatch, tmp_path / "home", [])
    yield tmp_path
    get_settings.cache_clear()


def _predict(*args: str | Path):
    return runner.invoke(app, ["imaging", "predict", *map(str, args)])


def _rows(path: Path, header: list[str]) -> list[dict]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == header
        rows = list(reader)
    for row in rows:
        probs = [float(row[f"prob_{k}"]) for k in range(len(header) - 2 - (header[-1] == "prob_referable"))]
        assert all(0 <= p <= 1 for p in probs)
        assert sum(probs) == pytest.approx(1, abs=1e-4)
        assert int(row["prediction"]) == int(np.argmax(probs))
    return rows


def _assert_overlays(folder: Path, sources: list[str]) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(overlay_name(s) for s in sources)
    for source in sources:
        data = (folder / overlay_name(source)).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with PIL_Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            assert picture.format == "PNG" and min(picture.size) >= 28


def _xray(seed: int, shape=(64, 56)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 1, shape) * np.linspace(0.2, 1, shape[1]) * 255).astype(np.uint8)


def _nifti(path: Path, pixels: np.ndarray, spacing: tuple[float, ...]) -> Path:
    affine = np.diag([*spacing, 1.0]) if len(spacing) == 3 else np.diag([*spacing, 1.0, 1.0])
    nibabel.save(nibabel.Nifti1Image(pixels, affine), str(path))
    return path


def _ct_series(folder: Path, volume: np.ndarray) -> Path:
    folder.mkdir()
    for k, plane in enumerate(volume):
        _write_dicom(folder / f"slice{k:03d}.dcm", (plane + 1024).astype(np.uint16), slope=1, intercept=-1024,
                     position=(0.0, 0.0, 2.0 * k), instance=k + 1, series_uid="1.2.826.0.1.99")
    return folder


# ---------------------------------------------------------------------------------------------
# every input type, tiny packages


def test_predict_png_jpeg_dicom_and_nifti_files_with_overlays(tiny):
    gray = _xray(1)
    PIL_Image.fromarray(gray).save(tiny / "a.png")
    PIL_Image.fromarray(np.stack([_xray(2)] * 3, axis=-1)).save(tiny / "b.jpg", quality=90)
    _write_dicom(tiny / "c.dcm", _xray(3).astype(np.uint16) * 16, photometric="MONOCHROME1", modality="CR")
    _nifti(tiny / "d.nii.gz", _xray(4).T.astype(np.int16), (0.5, 0.5))
    inputs = [tiny / n for n in ("a.png", "b.jpg", "c.dcm", "d.nii.gz")]
    result = _predict("--model", "pneumonia-cxr", *inputs, "--out", tiny / "preds.csv", "--overlays", tiny / "ov")
    assert result.exit_code == 0, result.output
    rows = _rows(tiny / "preds.csv", BINARY)
    assert [r["path"] for r in rows] == [str(p) for p in inputs]
    _assert_overlays(tiny / "ov", [str(p) for p in inputs])
    assert "4 of 4 inputs scored" in result.stdout


def test_predict_a_folder_takes_the_images_inside_and_skips_other_files(tiny):
    folder = tiny / "study"
    (folder / "sub").mkdir(parents=True)
    PIL_Image.fromarray(_xray(5)).save(folder / "one.png")
    PIL_Image.fromarray(_xray(6)).save(folder / "sub" / "two.jpeg")
    _write_dicom(folder / "sub" / "three.dcm", _xray(7).astype(np.uint16), modality="DX")
    (folder / "notes.txt").write_text("not an image")
    result = _predict("--model", "pneumonia-cxr", folder, "--out", tiny / "preds.csv", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    paths = [r["path"] for r in _rows(tiny / "preds.csv", BINARY)]
    assert paths == [str(folder / "one.png"), str(folder / "sub" / "three.dcm"), str(folder / "sub" / "two.jpeg")]


def test_unreadable_files_are_named_on_stderr_the_rest_are_scored_and_the_exit_code_is_1(tiny):
    PIL_Image.fromarray(_xray(8)).save(tiny / "good.png")
    (tiny / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (tiny / "empty.dcm").write_bytes(b"")
    (tiny / "empty_folder").mkdir()
    inputs = [tiny / "broken.png", tiny / "good.png", tiny / "empty.dcm", tiny / "missing.jpg", tiny / "empty_folder"]
    result = _predict("--model", "pneumonia-cxr", *inputs, "--out", tiny / "preds.csv", "--overlays", tiny / "ov")
    assert result.exit_code == 1
    assert [r["path"] for r in _rows(tiny / "preds.csv", BINARY)] == [str(tiny / "good.png")]
    _assert_overlays(tiny / "ov", [str(tiny / "good.png")])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4
    for name in ("broken.png", "empty.dcm", "missing.jpg", "empty_folder"):
        (line,) = [e for e in errors if f"{tiny / name}: " in e]
        assert len(line.split(": ", 2)[2]) > 5  # the problem, after the file name
    assert "not found" in next(e for e in errors if "missing.jpg" in e)
    assert "4 input(s) could not be scored" in result.stderr
    assert "Traceback" not in result.output


def test_dr_grade_csv_has_five_grades_and_prob_referable(tiny):
    rng = np.random.default_rng(9)
    fundus = np.zeros((120, 160, 3), np.uint8)
    yy, xx = np.mgrid[:120, :160]
    fundus[(yy - 60) ** 2 + (xx - 80) ** 2 < 55 ** 2] = rng.integers(60, 200, 3)
    PIL_Image.fromarray(fundus).save(tiny / "fundus.jpg")
    PIL_Image.fromarray(fundus).save(tiny / "fundus.png")
    result = _predict("--model", "dr-grade", tiny / "fundus.jpg", tiny / "fundus.png", "--out", tiny / "dr.csv")
    assert result.exit_code == 0, result.output
    for row in _rows(tiny / "dr.csv", DR):
        referable = sum(float(row[f"prob_{k}"]) for k in (2, 3, 4))
        assert float(row["prob_referable"]) == pytest.approx(referable, abs=2e-6)


def test_nodule_model_reads_a_nifti_volume_and_a_dicom_series_with_a_centre(tiny):
    rng = np.random.default_rng(10)
    volume = rng.normal(-800, 60, (24, 48, 48)).astype(np.int16)  # (slice, row, column), lung-like HU
    zz, yy, xx = np.mgrid[:24, :48, :48]
    volume[((zz - 12) * 2) ** 2 + ((yy - 20) * 0.7) ** 2 + ((xx - 30) * 0.8) ** 2 < 64] = 40  # a nodule
    nifti = _nifti(tiny / "voi.nii.gz", volume.transpose(2, 1, 0), (0.8, 0.7, 2.0))
    series = _ct_series(tiny / "series", volume)
    result = _predict("--model", "lung-nodule-malignancy", nifti, series, "--centre", "30,20,12",
                      "--out", tiny / "nodule.csv", "--overlays", tiny / "ov")
    assert result.exit_code == 0, result.output
    rows = _rows(tiny / "nodule.csv", BINARY)
    assert [r["path"] for r in rows] == [str(nifti), str(series)]
    assert float(rows[0]["prob_1"]) == pytest.approx(float(rows[1]["prob_1"]), abs=1e-3)  # same voxels, same crop
    _assert_overlays(tiny / "ov", [str(nifti), str(series)])

    outside = _predict("--model", "lung-nodule-malignancy", series, "--centre", "30,20,99", "--out", tiny / "x.csv")
    assert outside.exit_code == 1
    assert f"error: {series}: nodule centre" in outside.stderr and "outside the volume" in outside.stderr
    flat = tiny / "flat.png"
    PIL_Image.fromarray(_xray(11)).save(flat)
    mixed = _predict("--model", "lung-nodule-malignancy", flat, nifti, "--out", tiny / "mixed.csv")
    assert mixed.exit_code == 1 and f"error: {flat}: " in mixed.stderr and "3D" in mixed.stderr
    assert [r["path"] for r in _rows(tiny / "mixed.csv", BINARY)] == [str(nifti)]


@pytest.mark.parametrize("args, message", [
    (["--model", "no-such-model"], "unknown imaging model 'no-such-model'"),
    (["--model", "news2"], "unknown imaging model 'news2'"),
    (["--model", "pneumonia-cxr", "--centre", "1,2,3"], "--centre applies to 3D"),
    (["--model", "lung-nodule-malignancy", "--centre", "1,2"], "three numbers"),
])
def test_bad_usage_gets_a_clear_message_and_exit_code_2(tiny, args, message):
    PIL_Image.fromarray(_xray(12)).save(tiny / "a.png")
    result = _predict(*args, tiny / "a.png", "--out", tiny / "p.csv")
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert isinstance(result.exception, SystemExit) and not (tiny / "p.csv").exists()


def test_a_task_that_is_not_installed_says_how_to_get_it(tiny, monkeypatch, tmp_path):
    _settings(monkeypatch, tmp_path / "home", [tmp_path / "empty"])
    (tmp_path / "no-shipped").mkdir()
    monkeypatch.setattr("medai.models.registry.shipped_models_dir", lambda: tmp_path / "no-shipped")
    assert "fracture" not in {s.name for s in ModelRegistry([tmp_path / "empty"]).list()}
    result = _predict("--model", "fracture", tmp_path / "a.png")
    assert result.exit_code == 2 and "medai imaging train fracture" in " ".join(result.output.replace("│", " ").split())


def test_models_lists_the_imaging_packages_only(tiny):
    result = runner.invoke(app, ["imaging", "models"])
    assert result.exit_code == 0, result.output
    for name in TINY:
        assert name in result.output
    assert "news2" not in result.output and "sepsis" not in result.output


# ---------------------------------------------------------------------------------------------
# real files (MEDAI_DATA_DIR)


def _use(request, kind: str, name: str) -> Path:
    """Select the tiny or the shipped packages; skip when ``name`` is not shipped yet."""
    folder = request.getfixturevalue(kind)
    if kind == "shipped" and name not in {s.name for s in ModelRegistry().list() if s.ok}:
        pytest.skip(f"the {name} package is not shipped yet")
    return folder


@pytest.mark.data
@pytest.mark.parametrize("kind", ["tiny", "shipped"])
@pytest.mark.parametrize("name, dataset, header", [("pneumonia-cxr", "pneumoniamnist", BINARY),
                                                   ("retinamnist", "retinamnist", DR)])
def test_real_medmnist_images_as_png_and_dicom_score_like_the_prepared_arrays(request, kind, name, dataset, header,
                                                                              data_dir, tmp_path):
    from medai.datasets import medmnist
    from medai.imaging.cohorts import prepare_cases
    from medai.imaging.predict import load_model

    _use(request, kind, name)
    cases = medmnist.load(dataset, data_dir)["val"][:12]
    files = []
    for i, case in enumerate(cases):
        if i >= 10 and case.pixels.ndim == 2:  # the last greyscale ones as DICOM CR
            files.append(_write_dicom(tmp_path / f"{case.case_id}.dcm", case.pixels.astype(np.uint16), modality="CR"))
        else:
            PIL_Image.fromarray(case.pixels).save(tmp_path / f"{case.case_id}.png")
            files.append(tmp_path / f"{case.case_id}.png")
    result = _predict("--model", name, *files, "--out", tmp_path / "preds.csv")
    assert result.exit_code == 0, result.output
    model = load_model(name)
    rows = _rows(tmp_path / "preds.csv", header)
    got = np.array([[float(r[f"prob_{k}"]) for k in range(len(model.task.classes))] for r in rows])
    expected = model.predict_proba(prepare_cases(model.task, cases)[0])
    np.testing.assert_allclose(got, expected, atol=2e-5)


@pytest.mark.data
def test_public_dicom_and_nifti_samples(tiny, data_dir):
    with zipfile.ZipFile(data_dir / "dicom_samples" / "highdicom_test_files.zip") as archive:
        (tiny / "dx_image.dcm").write_bytes(archive.read("test_files/dx_image.dcm"))
    with zipfile.ZipFile(data_dir / "dicom_samples" / "pydicom_test_files.zip") as archive:
        (tiny / "CT_small.dcm").write_bytes(archive.read("test_files/CT_small.dcm"))
    with zipfile.ZipFile(data_dir / "nifti_samples" / "monai_test_nifti.zip") as archive:
        (tiny / "anatomical.nii").write_bytes(archive.read("testing_data/anatomical.nii"))
    result = _predict("--model", "pneumonia-cxr", tiny / "dx_image.dcm", tiny / "CT_small.dcm",
                      "--out", tiny / "cxr.csv", "--overlays", tiny / "ov")
    assert result.exit_code == 0, result.output
    assert len(_rows(tiny / "cxr.csv", BINARY)) == 2
    volume = _predict("--model", "lung-nodule-malignancy", tiny / "anatomical.nii", "--centre", "16,20,12",
                      "--out", tiny / "voi.csv")
    assert volume.exit_code == 0, volume.output
    assert len(_rows(tiny / "voi.csv", BINARY)) == 1


@pytest.mark.data
@pytest.mark.parametrize("kind", ["tiny", "shipped"])
def test_lidc_ct_series_with_the_readers_nodule_centre(request, kind, data_dir):
    from medai.datasets import lidc
    from medai.imaging.io import read_dicom_series
    from medai.imaging.predict import load_model

    out = _use(request, kind, "lung-nodule-malignancy") / "lidc.csv"
    folder = lidc.dicom_series_folder(data_dir)
    nodule = lidc.consensus(lidc.read_reads(next(folder.glob("*.xml"))))[0]
    positions = np.array(read_dicom_series(folder).metadata["slice_positions"])
    index = int(np.argmin(np.abs(positions - nodule.z)))
    result = _predict("--model", "lung-nodule-malignancy", folder, "--centre", f"{nodule.x},{nodule.y},{index}",
                      "--out", out)
    assert result.exit_code == 0, result.output
    (row,) = _rows(out, BINARY)
    assert row["path"] == str(folder)
    if kind == "shipped":  # four readers rated this nodule malignancy 5, 5, 5 and 4
        assert float(row["prob_1"]) >= load_model("lung-nodule-malignancy").threshold


@pytest.mark.data
def test_evaluate_rescores_the_validation_split_and_writes_the_report(tiny, data_dir):
    result = runner.invoke(app, ["imaging", "evaluate", "pneumonia-cxr", "--data", str(data_dir),
                                 "--out", str(tiny / "report"), "--n-boot", "20"])
    assert result.exit_code == 0, result.output
    assert "524 images" in result.output and "AUC (MedMNIST macro)" in result.output
    report = json.loads((tiny / "report" / "report.json").read_text())
    assert report["task"] == "pneumonia-cxr" and 0 <= report["summary"]["ACC (argmax)"]["value"] <= 1
    assert "<html" in (tiny / "report" / "report.html").read_text().lower()


@pytest.mark.data
def test_train_writes_a_package_that_predict_can_use(tiny, data_dir, monkeypatch):
    out = tiny / "trained"
    result = runner.invoke(app, ["imaging", "train", "retinamnist", "--data", str(data_dir), "--out", str(out),
                                 "--epochs", "1", "--n-boot", "20"])
    assert result.exit_code == 0, result.output
    assert ModelRegistry([out], shipped=False).get("retinamnist").version == "1.0.0"
    again = runner.invoke(app, ["imaging", "train", "retinamnist", "--data", str(data_dir), "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.stderr
    _settings(monkeypatch, tiny / "home", [out])
    PIL_Image.fromarray(np.full((28, 28, 3), 90, np.uint8)).save(tiny / "retina.png")
    scored = _predict("--model", "retinamnist", tiny / "retina.png", "--out", tiny / "r.csv")
    assert scored.exit_code == 0, scored.output
    assert len(_rows(tiny / "r.csv", DR)) == 1


def test_evaluate_names_the_missing_dataset(tiny, tmp_path, monkeypatch):
    monkeypatch.delenv("MEDAI_DATA_DIR", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["imaging", "evaluate", "pneumonia-cxr", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "not found" in result.stderr and "MEDAI_DATA_DIR" in result.stderr
    assert "Traceback" not in result.output
