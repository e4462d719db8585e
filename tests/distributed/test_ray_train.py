"""Ray Train (TorchTrainer, CPU workers, DDP) trains the pneumonia model and the sepsis GRU into ModelPackages through
the single-process recipes' calibration, evaluation and card paths; one worker reproduces the single-process GRU fit."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest


@pytest.mark.data
def test_pneumonia_cxr_trains_on_ray_into_a_loadable_package(ray_local, tmp_path, data_dir):
    from medai.distributed.train import train_imaging_on_ray
    from medai.imaging.predict import load_model
    from medai.models import ModelRegistry

    path = train_imaging_on_ray("pneumonia-cxr", data_dir, tmp_path / "models" / "pneumonia-cxr-1.0.0", workers=2,
                                epochs=2, n_boot=20, limit=1200, log=lambda message: None)
    report = json.loads((path / "validation_report.json").read_text())
    assert report["training"] == {"engine": "ray-train", "workers": 2}
    assert [entry["epoch"] for entry in report["history"]] == [1, 2]
    card = json.loads((path / "card.json").read_text())
    assert card["name"] == "pneumonia-cxr" and card["metrics"]
    model = load_model("pneumonia-cxr", ModelRegistry([tmp_path / "models"], shipped=False))  # hash-checked load
    auroc = next(value["value"] for name, value in report["summary"].items() if name.startswith("AUROC"))
    assert 0.6 < auroc <= 1.0  # two short epochs on 1,200 films already separate the classes
    images = np.random.default_rng(0).random((3, model.task.channels, *model.task.size), dtype=np.float32)
    assert model.predict_proba(images).shape == (3, 2)


SMALL_GRU = {"hidden_size": 16, "num_layers": 1, "epochs": 2, "batch_size": 32, "patience": 2, "max_train_seconds": None}


@pytest.fixture(scope="module")
def sepsis_subset():
    """The first 300 stays of the shared challenge set A, split by patient as ``medai sepsis train`` does."""
    from medai.risk.sepsis.task import load_cohort, split_stays

    return split_stays(load_cohort(os.environ["MEDAI_DATA_DIR"], limit=300))


@pytest.mark.data
def test_sepsis_gru_on_one_ray_worker_equals_the_single_process_fit(ray_local, sepsis_subset):
    from medai.distributed.sepsis_gru import RaySepsisGRU
    from medai.risk.sepsis.gru import SepsisGRU

    train, validation = sepsis_subset
    single = SepsisGRU(**SMALL_GRU).fit(train, validation)
    on_ray = RaySepsisGRU(workers=1, **SMALL_GRU).fit(train, validation)
    assert on_ray.best_epoch_ == single.best_epoch_
    for ours, theirs in zip(on_ray.history_, single.history_, strict=True):
        assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-5)
        assert ours["validation_auroc"] == pytest.approx(theirs["validation_auroc"], abs=1e-6)
    assert on_ray.validation_auroc_ == pytest.approx(single.validation_auroc_, abs=1e-6)
    assert np.allclose(on_ray.platt_, single.platt_, atol=1e-5)
    for stay in validation[:10]:
        assert np.allclose(on_ray.predict_proba(stay.values), single.predict_proba(stay.values), atol=1e-5)


@pytest.mark.data
def test_sepsis_ews_with_a_two_worker_gru_packages_through_the_single_process_card_path(ray_local, data_dir, sepsis_subset,
                                                                                        tmp_path):
    import shutil

    from medai.distributed.train import train_sepsis_on_ray
    from medai.models import ModelRegistry
    from medai.models.package import ModelPackageError, load_package
    from medai.risk.sepsis.gru import SepsisGRU
    from medai.risk.sepsis.model import SepsisModel

    path = train_sepsis_on_ray(data_dir, tmp_path / "models" / "sepsis-ews-1.0.0", workers=2, gru_params=SMALL_GRU,
                               n_boot=20, limit=300, log=lambda message: None)
    report = json.loads((path / "validation_report.json").read_text())
    assert report["training"] == {"engine": "ray-train", "model": "gru", "workers": 2}
    card = json.loads((path / "card.json").read_text())
    train, validation = sepsis_subset
    assert card["name"] == "sepsis-ews" and card["evaluation_data"][0]["n"] == len(validation)
    assert card["training_data"][0]["n"] == len(train)
    assert any(metric["name"] == "AUROC (hourly)" and 0.5 < metric["value"] <= 1.0 for metric in card["metrics"])
    package = ModelRegistry([tmp_path / "models"], shipped=False).get("sepsis-ews")  # hash-checked load
    model = SepsisModel.from_package(package)
    gru = SepsisGRU.load(package.file("gru/config.json").parent)
    assert [entry["epoch"] for entry in gru.history_] == [1, 2]
    risks = model.predict_stay(validation[0].values)
    assert risks.shape == (len(validation[0].values),) and np.all((risks > 0) & (risks < 1))
    tampered = shutil.copytree(path, tmp_path / "tampered")
    (tampered / "gru" / "weights.safetensors").write_bytes(b"0" + (tampered / "gru" / "weights.safetensors").read_bytes()[1:])
    with pytest.raises(ModelPackageError):
        load_package(tampered)
