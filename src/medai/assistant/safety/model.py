"""The learned half of the crisis screen: two logistic probes on MiniLM sentence embeddings.

Stage ``topic``: is the message talk about suicide at all? Positives are the Reddit C-SSRS posts (every
level), negatives are ordinary texts (Cognitive Distortion statements, Counsel Chat questions on other
topics, self-written everyday health-assistant messages). Stage ``risk``: among suicide talk, is the author
at risk (Ideation, Behavior, Attempt) rather than Supportive or Indicator? The score of a message is
P(topic) x P(at risk | topic), so ordinary conversation scores near zero. Shipped as
``crisis-screen-<version>`` with ``weights.safetensors`` (both probes) and ``model.json`` (thresholds,
encoder). A score at or above ``threshold`` (chosen for user-level recall on at-risk users) is ``low``: the
chat shows resources gently and goes on. At or above ``moderate_threshold`` it is ``moderate`` and stops
the flow. The model never says ``high`` or ``imminent`` on its own; the lexicon does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medai.assistant.safety.embed import ENCODER, embed
from medai.assistant.safety.types import Evidence, Risk, ScreenResult
from medai.models import ModelPackage, load_package
from medai.models.registry import shipped_models_dir

MODEL_NAME = "crisis-screen"
VERSION = "1.0.0"
WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "model.json"


class LinearProbe:
    """Logistic regression over fixed embeddings (scikit-learn contract; binary or multinomial).

    Parameters are stored by ``__init__`` only; ``fit`` learns ``coef_`` (classes x dims), ``intercept_``
    and ``classes_``.
    """

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced", max_iter: int = 2000):
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> LinearProbe:
        """Fit on embeddings ``X`` and labels ``y``."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        model.fit(X, y, sample_weight=sample_weight)
        self.classes_ = np.asarray(model.classes_)
        self.coef_ = np.asarray(model.coef_, dtype=np.float32)
        self.intercept_ = np.asarray(model.intercept_, dtype=np.float32)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Linear scores: ``(n,)`` for two classes, ``(n, classes)`` otherwise."""
        scores = np.asarray(X, dtype=np.float32) @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = 1.0 / (1.0 + np.exp(-scores))
            return np.column_stack([1.0 - positive, positive])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def explain(self, X: np.ndarray) -> list[dict]:
        """Per row: the probabilities and the margin of the winning class (embeddings have no readable features)."""
        proba = self.predict_proba(X)
        order = np.argsort(-proba, axis=1)
        return [{"class": str(self.classes_[o[0]]), "probability": float(p[o[0]]),
                 "margin": float(p[o[0]] - p[o[1]]) if len(o) > 1 else 1.0,
                 "probabilities": {str(c): float(v) for c, v in zip(self.classes_, p, strict=True)}}
                for p, o in zip(proba, order, strict=True)]

    def tensors(self) -> dict[str, np.ndarray]:
        """The learned arrays, C-contiguous (safetensors writes the raw buffer)."""
        return {"coef": np.ascontiguousarray(self.coef_), "intercept": np.ascontiguousarray(self.intercept_)}

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray], classes: list) -> LinearProbe:
        """A fitted probe from stored arrays and its class list."""
        probe = cls()
        probe.coef_ = np.asarray(tensors["coef"], dtype=np.float32)
        probe.intercept_ = np.asarray(tensors["intercept"], dtype=np.float32)
        probe.classes_ = np.asarray(classes)
        return probe


@dataclass(frozen=True)
class CrisisModel:
    """A loaded crisis classifier with its operating thresholds and package identity."""

    probe: LinearProbe
    threshold: float
    moderate_threshold: float
    package: ModelPackage | None = None
    topic: LinearProbe | None = None

    @property
    def id(self) -> str:
        """``crisis-screen-<version>`` (``crisis-screen-unpackaged`` before saving)."""
        return f"{self.package.name}-{self.package.version}" if self.package else f"{MODEL_NAME}-unpackaged"

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Score of each embedded message: P(suicide talk) x P(at-risk author | suicide talk)."""
        risk = self.probe.predict_proba(embeddings)[:, 1]
        return risk if self.topic is None else risk * self.topic.predict_proba(embeddings)[:, 1]

    def risk_of(self, probability: float) -> Risk:
        """``moderate``, ``low`` or ``none`` for a probability."""
        if probability >= self.moderate_threshold:
            return "moderate"
        return "low" if probability >= self.threshold else "none"

    def screen(self, text: str) -> ScreenResult:
        """Screen one message: the whole message is the evidence span when the model fires."""
        if not text.strip():
            return ScreenResult()
        probability = float(self.probabilities(embed([text]))[0])
        risk = self.risk_of(probability)
        if risk == "none":
            return ScreenResult()
        evidence = Evidence(0, len(text), text[:200], "model", self.id, "suicide_self_harm", risk, "classifier",
                            probability=round(probability, 4))
        return ScreenResult(risk, ("suicide_self_harm",), (evidence,))

    def config(self) -> dict:
        """What ``model.json`` stores."""
        return {"encoder": ENCODER, "classes": [int(c) for c in self.probe.classes_], "threshold": self.threshold,
                "moderate_threshold": self.moderate_threshold, "stages": ["topic", "risk"] if self.topic else ["risk"],
                "score": "P(topic) * P(risk | topic)" if self.topic else "P(risk)"}


def package_files(model: CrisisModel) -> dict[str, bytes]:
    """``weights.safetensors`` and ``model.json`` of a fitted model."""
    from safetensors.numpy import save

    tensors = model.probe.tensors()
    if model.topic is not None:
        tensors.update({f"topic_{k}": v for k, v in model.topic.tensors().items()})
    return {WEIGHTS_FILE: save(tensors), CONFIG_FILE: json.dumps(model.config(), indent=1).encode()}


def load_crisis_model(path: str | Path | None = None) -> CrisisModel:
    """Load (and hash-check) the crisis model package at ``path``, or the shipped one."""
    from safetensors.numpy import load

    package = load_package(path or shipped_models_dir() / f"{MODEL_NAME}-{VERSION}")
    config = json.loads(package.file(CONFIG_FILE).read_text(encoding="utf-8"))
    tensors = load(package.file(WEIGHTS_FILE).read_bytes())
    probe = LinearProbe.from_tensors(tensors, config["classes"])
    topic = (LinearProbe.from_tensors({"coef": tensors["topic_coef"], "intercept": tensors["topic_intercept"]}, [0, 1])
             if "topic" in config.get("stages", []) else None)
    return CrisisModel(probe, float(config["threshold"]), float(config["moderate_threshold"]), package, topic)
