"""The shipped distortion detector package: hash-checked load, card figures, fitting on toy embeddings."""

import shutil

import numpy as np
import pytest

from medai.assistant.mental.distortions import WEIGHTS_FILE, DistortionDetector, load_detector
from medai.datasets.cognitive_distortions import DISTORTIONS
from medai.models import ModelPackageError


def test_shipped_detector_loads_with_ten_types_and_card_metrics():
    detector, package = load_detector()
    assert package.name == "distortion-detector" and list(detector.types_.classes_) == sorted(DISTORTIONS)
    metrics = {m.name: m for m in package.card.metrics}
    assert metrics["F1, distorted vs not"].value > 0.7
    assert 0.2 <= detector.threshold <= 0.7 and package.card.operating_point.threshold == detector.threshold


def test_altered_package_is_refused(tmp_path):
    copy = tmp_path / "detector"
    shutil.copytree(load_detector()[1].path, copy)
    (copy / WEIGHTS_FILE).write_bytes((copy / WEIGHTS_FILE).read_bytes() + b"\0")
    with pytest.raises(ModelPackageError, match="altered"):
        load_detector(copy)


def test_detector_contract_on_toy_embeddings():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 8))
    distorted = X[:, 0] > 0
    types = np.where(X[:, 1] > 0, "Labeling", np.where(X[:, 2] > 0, "Mind Reading", "Fortune-telling"))
    detector = DistortionDetector(C_binary=10, C_type=10, top_k=2).fit(X, distorted, types)
    assert (detector.predict(X) == distorted).mean() > 0.9
    result = detector.explain(X[:1])[0]
    assert len(result.candidates) == 2 and result.candidates[0][1] >= result.candidates[1][1]
    assert set(detector.tensors()) == {"binary_coef", "binary_intercept", "type_coef", "type_intercept"}
