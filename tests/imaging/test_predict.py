"""The prediction path: inputs of every kind, folders, unreadable files, CSV columns; and the LIDC
DICOM series with the readers' nodule centre end to end (real data)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("monai")
PIL_Image = pytest.importorskip("PIL.Image")
nibabel = pytest.importorskip("nibabel")

from medai.imaging.image import ImageReadError  # noqa: E402
from medai.imaging.model import ImageClassifier  # noqa: E402
from medai.imaging.package import ImagingModel, export_files  # noqa: E402
from medai.imaging.predict import (  # noqa: E402
    collect_inputs,
    load_model,
    predict_paths,
    write_predictions_csv,
)
from medai.imaging.tasks import get_task  # noqa: E402
from medai.models import ModelRegistry, load_package, save_package  # noqa: E402
from tests.imaging.synthetic import blob_images, tiny_card  # noqa: E402


@pytest.fixture(scope="module")
def graded_model(tmp_path_factory) -> ImagingModel:
    """A 5-class 28 px RGB model (one quick epoch: only the plumbing is under test)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (40, 3, 28, 28)).astype(np.float32)
    model = ImageClassifier("retinamnist", epochs=1, batch_size=20, widths=(4, 8, 8, 8), log=lambda _: None)
    model.fit(X, np.arange(40) % 5)
    folder = tmp_path_factory.mktemp("pkg") / "retinamnist-0.0.1"
    save_package(folder, tiny_card("retinamnist"), export_files(model, threshold=0.5))
    return ImagingModel.load(load_package(folder))


def _write_inputs(folder):
    X, _ = blob_images(2, seed=3)
    grey = (X[1, 0] * 255).astype(np.uint8)
    PIL_Image.fromarray(grey).convert("RGB").save(folder / "a.png")
    PIL_Image.fromarray(grey).convert("RGB").save(folder / "b.jpg")
    (folder / "sub").mkdir()
    PIL_Image.fromarray(grey).convert("RGB").save(folder / "sub" / "c.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_folders_expand_to_image_files_for_2d_models(tmp_path):
    _write_inputs(tmp_path)
    found = collect_inputs([tmp_path], get_task("pneumonia-cxr"))
    assert [p.name for p in found] == ["a.png", "b.jpg", "c.png"]
    assert collect_inputs([tmp_path], get_task("lung-nodule-malignancy")) == [tmp_path]  # a series folder
    with pytest.raises(ImageReadError, match="not found"):
        collect_inputs([tmp_path / "missing.png"], get_task("pneumonia-cxr"))


def test_predict_paths_and_csv_with_referable_column(graded_model, tmp_path):
    _write_inputs(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    errors = []
    results = predict_paths(graded_model, [tmp_path], explain=True, on_error=lambda p, e: errors.append((p, str(e))))
    assert len(results) == 3 and len(errors) == 1 and "broken.png" in errors[0][1]
    assert all(abs(sum(r.probabilities) - 1) < 1e-5 for r in results)
    assert results[0].overlay_png.startswith(b"\x89PNG")
    out = write_predictions_csv(results, tmp_path / "preds.csv", graded_model.task)
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["path", "prediction", "prob_0", "prob_1", "prob_2", "prob_3", "prob_4", "prob_referable"]
    row = rows[0]
    assert float(row["prob_referable"]) == pytest.approx(sum(float(row[f"prob_{k}"]) for k in (2, 3, 4)), abs=1e-5)
    with pytest.raises(ImageReadError, match="broken.png"):
        predict_paths(graded_model, [tmp_path / "broken.png"])


def test_unknown_model_name_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match="no-such-model"):
        load_model("no-such-model", ModelRegistry([tmp_path], shipped=False))


@pytest.mark.data
def test_lidc_series_with_reader_centre_predicts_the_malignant_nodule(data_dir):
    from medai.datasets import lidc
    from medai.imaging.io import read_dicom_series

    folder = lidc.dicom_series_folder(data_dir)
    nodule = lidc.consensus(lidc.read_reads(next(folder.glob("*.xml"))))[0]
    volume = read_dicom_series(folder)
    positions = np.asarray(volume.metadata["slice_positions"])
    centre = (nodule.x, nodule.y, int(np.argmin(np.abs(positions - nodule.z))))
    model = load_model("lung-nodule-malignancy")
    (result,) = predict_paths(model, [folder], centre=centre, explain=True)
    assert result.positive_probability > 0.5  # rated malignancy 5, 5, 5 and 4 by the four readers
    assert result.overlay_png.startswith(b"\x89PNG")


def test_a_file_the_model_cannot_use_goes_to_on_error_and_the_rest_are_scored(tmp_path):
    _write_inputs(tmp_path)
    series = tmp_path / "volume.nii.gz"
    nibabel.save(nibabel.Nifti1Image(np.full((40, 40, 12), -800, dtype=np.int16), np.diag([0.7, 0.7, 2.5, 1])), series)
    errors = []
    results = predict_paths(load_model("lung-nodule-malignancy"), [tmp_path / "a.png", series],
                            on_error=lambda p, e: errors.append((p.name, str(e))))
    assert [r.source for r in results] == [str(series)]
    assert errors and errors[0][0] == "a.png" and "3D CT volume" in errors[0][1]


def test_overlay_names_keep_dotted_folder_names():
    from medai.imaging.predict import overlay_name

    assert overlay_name("/data/1.2.840.113619/").startswith("1.2.840.113619-")
    assert overlay_name("scan.nii.gz").startswith("scan-")
