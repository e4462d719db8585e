"""Ray Train (TorchTrainer, two CPU workers, DDP) trains the pneumonia model into a ModelPackage through the
single-process recipe's calibration, evaluation and card path."""

from __future__ import annotations

import json

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
