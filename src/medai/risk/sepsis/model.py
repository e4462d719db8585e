"""The shipped sepsis model: LightGBM on causal features, blended with a GRU on the hourly
stream, Platt-calibrated, with a utility-optimal threshold and an alert policy.

``SepsisModel`` is what the CLI, the service and the benchmark use. It loads from a
ModelPackage (hash-checked) and scores whole stays or streams rows one at a time. The GRU
runs as an ONNX single step on onnxruntime, so serving needs no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from medai.core.prediction import ModelIdentity
from medai.evaluate import PlattRecalibrator
from medai.risk.sepsis.alerting import AlertPolicy
from medai.risk.sepsis.explain import explain_row
from medai.risk.sepsis.features import FeatureState, stay_features
from medai.risk.sepsis.lgbm import SepsisLightGBM
from medai.risk.sepsis.sequence import GRUStream

MODEL_NAME = "sepsis-ews"


def _safe_logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, 1e-6, 1 - 1e-6))


@dataclass
class SepsisModel:
    """A trained sepsis early-warning model with its operating threshold and alert policy."""

    lgbm: SepsisLightGBM
    calibration: tuple[float, float]  # Platt (intercept, slope) on the logit of the raw score
    policy: AlertPolicy
    identity: ModelIdentity | None = None
    gru: GRUStream | None = None  # a template stream; each patient gets ``gru.fresh()``
    gru_weight: float = 0.0
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.identity is None:  # trained in this process, not loaded from a package
            import hashlib

            digest = hashlib.sha256(self.lgbm.to_json().encode() + repr(self.calibration).encode()).hexdigest()
            self.identity = ModelIdentity(model_id=MODEL_NAME, model_version="unpackaged", weights_sha256=digest)

    @property
    def threshold(self) -> float:
        """The operating threshold on the calibrated probability."""
        return self.policy.threshold

    def predict_features(self, X: np.ndarray, gru_p: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities for precomputed feature rows (blended with the GRU's, when it is part of the model)."""
        return blend(self.lgbm.predict_proba(X), gru_p if self.gru_weight > 0 else None, self.gru_weight, self.calibration)

    def gru_stay(self, values: np.ndarray) -> np.ndarray | None:
        """The GRU's hourly probabilities for a stay, or None when the model has no GRU."""
        if self.gru is None or self.gru_weight <= 0:
            return None
        stream = self.gru.fresh()
        return np.array([stream.update(row) for row in values])

    def predict_stay(self, values: np.ndarray) -> np.ndarray:
        """Calibrated hourly probabilities for one stay (hours x 40 challenge columns)."""
        return self.predict_features(stay_features(values), self.gru_stay(values))

    def stream(self) -> "SepsisStream":
        """A fresh per-patient streaming scorer."""
        return SepsisStream(self)

    def save(self, directory: Path) -> dict[str, bytes]:
        """The package files of this model (LightGBM JSON, calibration and policy)."""
        files = {"lightgbm.json": self.lgbm.to_json().encode(),
                 "calibration.json": json.dumps({"method": "platt-on-blended-logit", "intercept": self.calibration[0],
                                                 "slope": self.calibration[1], "gru_weight": self.gru_weight}).encode(),
                 "alert_policy.json": self.policy.model_dump_json(indent=2).encode()}
        return files

    @classmethod
    def from_package(cls, package) -> "SepsisModel":
        """Load from a hash-checked ModelPackage."""
        calibration = json.loads(package.file("calibration.json").read_text())
        lgbm = SepsisLightGBM.from_json(package.file("lightgbm.json").read_text())
        policy = AlertPolicy.model_validate_json(package.file("alert_policy.json").read_text())
        weight = float(calibration.get("gru_weight", 0.0))
        gru = GRUStream.from_dir(package.file("gru/config.json").parent, backend="onnx") if weight > 0 else None
        return cls(lgbm, (calibration["intercept"], calibration["slope"]), policy, ModelIdentity(**package.identity()), gru, weight)


def blend(lgbm_p: np.ndarray, gru_p: np.ndarray | None, gru_weight: float, calibration: tuple[float, float]) -> np.ndarray:
    """Calibrated probability of the weighted blend of the two models' logits."""
    z = _safe_logit(lgbm_p)
    if gru_p is not None and gru_weight > 0:
        z = (1 - gru_weight) * z + gru_weight * _safe_logit(gru_p)
    intercept, slope = calibration
    return expit(intercept + slope * z)


def fit_calibration(raw_p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt parameters (intercept, slope) mapping raw scores to calibrated probabilities."""
    recalibrator = PlattRecalibrator().fit(np.clip(raw_p, 1e-6, 1 - 1e-6), y)
    return float(recalibrator.intercept_), float(recalibrator.coef_)


class SepsisStream:
    """One patient's incremental scorer: each new hourly row updates the state in constant time."""

    def __init__(self, model: SepsisModel):
        self.model = model
        self.state = FeatureState()
        self.gru_stream = model.gru.fresh() if model.gru is not None and model.gru_weight > 0 else None
        self.last_features: np.ndarray | None = None

    def update(self, row: np.ndarray) -> float:
        """Consume one hourly row (40 challenge columns, NaN = not measured); return the calibrated risk."""
        gru_p = self.gru_stream.update(row) if self.gru_stream is not None else None
        return self._score(self.state, row, gru_p)

    def peek(self, row: np.ndarray) -> float:
        """The risk if ``row`` were the next hour, without committing it (for an hour still filling up)."""
        gru_p = self.gru_stream.peek(row) if self.gru_stream is not None else None
        return self._score(self.state.copy(), row, gru_p)

    def _score(self, state: FeatureState, row: np.ndarray, gru_p: float | None) -> float:
        features = state.update(row)
        self.last_features, self.last_state = features, state
        return float(self.model.predict_features(features[None, :], None if gru_p is None else np.array([gru_p]))[0])

    def explain(self, probability: float):
        """The explanation of the latest risk (from ``update`` or ``peek``), in clinical words."""
        contributions = self.model.lgbm.contributions(self.last_features[None, :])[0]
        return explain_row(contributions, self.last_state, probability)
