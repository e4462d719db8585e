"""ImageClassifier, Grad-CAM and the package round trip on a small synthetic task that must be learnt."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("monai")
pytest.importorskip("onnxruntime")

from medai.imaging.model import ImageClassifier  # noqa: E402
from medai.imaging.package import ImagingModel, export_files  # noqa: E402
from medai.models import load_package, save_package  # noqa: E402
from tests.imaging.synthetic import blob_images, tiny_card  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    X, y = blob_images(160, seed=0)
    model = ImageClassifier("pneumonia-cxr", epochs=6, batch_size=32, learning_rate=5e-3, widths=(8, 16, 16, 32),
                            log=lambda _: None)
    X_val, y_val = blob_images(60, seed=1)
    return model.fit(X, y).calibrate(X_val, y_val), X_val, y_val


def test_fit_learns_the_synthetic_finding(fitted):
    from sklearn.metrics import roc_auc_score

    model, X_val, y_val = fitted
    proba = model.predict_proba(X_val)
    assert proba.shape == (60, 2) and np.allclose(proba.sum(axis=1), 1)
    assert roc_auc_score(y_val, model.positive_probability(proba)) > 0.9
    assert model.temperature_ > 0 and len(model.history_) == 6


def test_grad_cam_points_at_the_blob(fitted):
    model, X_val, y_val = fitted
    i = int(np.argmax(model.predict_proba(X_val)[:, 1]))
    assert y_val[i] == 1
    heat = model.explain(X_val[i], class_index=1)
    assert heat.shape == (28, 28) and heat.max() == pytest.approx(1.0)
    blob = X_val[i, 0] > 0.5
    assert heat[blob].mean() > heat[~blob].mean()


def test_package_round_trip_onnx_matches_torch(fitted, tmp_path):
    model, X_val, _ = fitted
    files = export_files(model, threshold=0.5)
    package = save_package(tmp_path / "pneumonia-cxr-0.0.1", tiny_card(), files)
    onnx = ImagingModel.load(load_package(package.path))
    torch_backend = ImagingModel.load(load_package(package.path), backend="torch")
    np.testing.assert_allclose(onnx.predict_proba(X_val), torch_backend.predict_proba(X_val), atol=1e-4)
    np.testing.assert_allclose(onnx.predict_proba(X_val), model.predict_proba(X_val), atol=1e-4)
    assert onnx.threshold == 0.5
    assert onnx.explain(X_val[0]).shape == (28, 28)
    with pytest.raises(ValueError, match="backend"):
        ImagingModel.load(load_package(package.path), backend="tensorrt")
