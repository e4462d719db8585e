"""The cognitive-distortion detector: is a thought distorted, and which of the ten types is it likely to be.

Two logistic-regression probes on MiniLM embeddings, trained on Shreevastava & Foltz (2021): a binary
detector (distorted vs not) and a ten-type classifier fitted on the distorted statements. Shipped as
``distortion-detector-<version>``. The thought-record flow shows the top candidates and the user confirms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from medai.assistant.safety.embed import ENCODER, embed
from medai.assistant.safety.model import LinearProbe
from medai.models import ModelPackage, load_package
from medai.models.registry import shipped_models_dir

MODEL_NAME = "distortion-detector"
VERSION = "1.0.0"
WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "model.json"


@dataclass(frozen=True)
class DistortionResult:
    """Whether a thought looks distorted, and the likeliest types with their probabilities."""

    distorted: bool
    probability: float
    candidates: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict:
        """JSON values."""
        return {"distorted": self.distorted, "probability": round(self.probability, 4),
                "candidates": [{"type": t, "probability": round(p, 4)} for t, p in self.candidates]}


class DistortionDetector:
    """Binary detector + type classifier over sentence embeddings (scikit-learn contract)."""

    def __init__(self, C_binary: float = 1.0, C_type: float = 1.0, threshold: float = 0.5, top_k: int = 3):
        self.C_binary = C_binary
        self.C_type = C_type
        self.threshold = threshold
        self.top_k = top_k

    def fit(self, X: np.ndarray, distorted: np.ndarray, types: np.ndarray) -> DistortionDetector:
        """``distorted`` is boolean per row; ``types`` the type of each distorted row (ignored elsewhere)."""
        distorted = np.asarray(distorted, dtype=bool)
        self.binary_ = LinearProbe(C=self.C_binary).fit(X, distorted.astype(int))
        self.types_ = LinearProbe(C=self.C_type).fit(X[distorted], np.asarray(types)[distorted])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(distorted) per row."""
        return self.binary_.predict_proba(X)[:, 1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Whether each row is distorted at :attr:`threshold`."""
        return self.predict_proba(X) >= self.threshold

    def predict_type(self, X: np.ndarray) -> np.ndarray:
        """The likeliest distortion type of each row (whether or not it is distorted)."""
        return self.types_.predict(X)

    def explain(self, X: np.ndarray) -> list[DistortionResult]:
        """Per row: the detection probability and the top ``top_k`` types."""
        p = self.predict_proba(X)
        type_p = self.types_.predict_proba(X)
        out = []
        for prob, row in zip(p, type_p, strict=True):
            order = np.argsort(-row)[: self.top_k]
            out.append(DistortionResult(bool(prob >= self.threshold), float(prob),
                                        tuple((str(self.types_.classes_[i]), float(row[i])) for i in order)))
        return out

    def detect(self, text: str) -> DistortionResult:
        """Embed one thought and explain it."""
        return self.explain(embed([text]))[0]

    def tensors(self) -> dict[str, np.ndarray]:
        """Arrays for safetensors."""
        binary, types = self.binary_.tensors(), self.types_.tensors()
        return {"binary_coef": binary["coef"], "binary_intercept": binary["intercept"],
                "type_coef": types["coef"], "type_intercept": types["intercept"]}

    def config(self) -> dict:
        """What ``model.json`` stores."""
        return {"encoder": ENCODER, "threshold": self.threshold, "top_k": self.top_k,
                "types": [str(c) for c in self.types_.classes_]}


def package_files(detector: DistortionDetector) -> dict[str, bytes]:
    """``weights.safetensors`` and ``model.json`` of a fitted detector."""
    from safetensors.numpy import save

    return {WEIGHTS_FILE: save(detector.tensors()), CONFIG_FILE: json.dumps(detector.config(), indent=1).encode()}


def load_detector(path: str | Path | None = None) -> tuple[DistortionDetector, ModelPackage]:
    """Load (hash-checked) the detector package at ``path``, or the shipped one."""
    from safetensors.numpy import load

    package = load_package(path or shipped_models_dir() / f"{MODEL_NAME}-{VERSION}")
    config = json.loads(package.file(CONFIG_FILE).read_text(encoding="utf-8"))
    arrays = load(package.file(WEIGHTS_FILE).read_bytes())
    detector = DistortionDetector(threshold=float(config["threshold"]), top_k=int(config["top_k"]))
    detector.binary_ = LinearProbe.from_tensors({"coef": arrays["binary_coef"], "intercept": arrays["binary_intercept"]},
                                                [0, 1])
    detector.types_ = LinearProbe.from_tensors({"coef": arrays["type_coef"], "intercept": arrays["type_intercept"]},
                                               config["types"])
    return detector, package


@lru_cache(maxsize=1)
def shipped_detector() -> DistortionDetector:
    """The shipped detector, loaded once."""
    return load_detector()[0]
