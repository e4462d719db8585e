"""Readmission estimators (LightGBM, logistic baseline) and the shipped model that blends and calibrates them.

``ReadmissionModel`` is what the CLI, the benchmark and a service use: the fitted feature encoder,
LightGBM, the embedding MLP (ONNX), the blend weight and Platt calibration chosen on the inner
early-stopping patients, and the observed rates for encounters outside the outcome (death and
hospice). It loads from a hash-checked ModelPackage and needs neither torch nor the data set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from medai.core.prediction import ModelIdentity
from medai.datasets.diabetes130 import Diabetes130Table
from medai.risk.readmission.features import CATEGORICAL, FEATURE_NAMES, Encoded, FeatureEncoder, raw_features
from medai.risk.readmission.mlp import InputScaler, MLPOnnx
from medai.risk.readmission.task import code_tables, excluded
from medai.risk.sepsis.model import blend

MODEL_NAME = "readmission-diabetes"
LIGHTGBM_FORMAT = "medai-readmission-lightgbm-1"


class ReadmissionLightGBM:
    """Gradient-boosted trees on the encoded features, categories split natively (scikit-learn contract)."""

    def __init__(self, n_estimators: int = 4000, learning_rate: float = 0.02, num_leaves: int = 31,
                 min_child_samples: int = 200, colsample_bytree: float = 0.5, subsample: float = 0.8,
                 reg_lambda: float = 5.0, cat_smooth: float = 50.0, early_stopping_rounds: int = 200,
                 n_jobs: int = 1, seed: int = 0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.reg_lambda = reg_lambda
        self.cat_smooth = cat_smooth
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.seed = seed

    def _params(self) -> dict:
        return {"objective": "binary", "metric": "auc", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_child_samples": self.min_child_samples, "feature_fraction": self.colsample_bytree,
                "bagging_fraction": self.subsample, "bagging_freq": 1, "lambda_l2": self.reg_lambda,
                "cat_smooth": self.cat_smooth, "min_data_per_group": self.min_child_samples, "cat_l2": 10.0,
                "max_cat_to_onehot": 8, "num_threads": self.n_jobs, "seed": self.seed, "verbosity": -1}

    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray) -> ReadmissionLightGBM:
        """Boost on (X, y) with early stopping on the AUROC of (X_val, y_val) (held-out training patients)."""
        import lightgbm as lgb

        categorical = [FEATURE_NAMES.index(name) for name in CATEGORICAL]
        train = lgb.Dataset(X, y, feature_name=FEATURE_NAMES, categorical_feature=categorical, free_raw_data=True)
        valid = lgb.Dataset(X_val, y_val, reference=train)
        self.booster_ = lgb.train(self._params(), train, num_boost_round=self.n_estimators, valid_sets=[valid],
                                  callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of readmission within 30 days for each row (before calibration)."""
        return self.booster_.predict(X, num_threads=self.n_jobs)

    def explain(self, X: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions in log-odds, one column per feature (the bias column dropped)."""
        return self.booster_.predict(X, pred_contrib=True, num_threads=self.n_jobs)[:, :-1]

    def to_json(self) -> str:
        """LightGBM's text model wrapped with the feature names it was trained on."""
        return json.dumps({"format": LIGHTGBM_FORMAT, "features": FEATURE_NAMES, "model": self.booster_.model_to_string()})

    @classmethod
    def from_json(cls, text: str, n_jobs: int = 1) -> ReadmissionLightGBM:
        """Load ``to_json``'s output; refuses a model trained on another feature set."""
        import lightgbm as lgb

        payload = json.loads(text)
        if payload.get("format") != LIGHTGBM_FORMAT or payload.get("features") != FEATURE_NAMES:
            raise ValueError("the LightGBM model was trained on a different feature set than this medai version computes")
        model = cls(n_jobs=n_jobs)
        model.booster_ = lgb.Booster(model_str=payload["model"])
        return model


class LogisticBaseline:
    """Logistic regression on scaled continuous features and one-hot categories (the benchmark's baseline)."""

    def __init__(self, C: float = 0.05, max_iter: int = 2000):
        self.C = C
        self.max_iter = max_iter

    def _design(self, X: np.ndarray) -> np.ndarray:
        codes = X[:, self.n_continuous_:].astype(np.int64)
        onehot = [codes[:, j:j + 1] == np.arange(1, k) for j, k in enumerate(self.cardinalities_)]
        return np.hstack([self.scaler_.transform(X[:, :self.n_continuous_]), *onehot]).astype(float)

    def fit(self, X: np.ndarray, y: np.ndarray, *, cardinalities: list[int], n_continuous: int) -> LogisticBaseline:
        from sklearn.linear_model import LogisticRegression

        self.cardinalities_, self.n_continuous_ = list(cardinalities), n_continuous
        self.scaler_ = InputScaler().fit(X[:, :n_continuous])
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(self._design(X), y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(self._design(X))[:, 1]

    def explain(self, X: np.ndarray) -> np.ndarray:
        """Coefficient x scaled input for every design column (log-odds, around the training mean)."""
        return self._design(X) * self.model_.coef_[0]


def fit_excluded_rates(table: Diabetes130Table, y: np.ndarray, rows: np.ndarray) -> dict[int, float]:
    """30-day readmission rate observed among ``rows`` for each excluded disposition (death, hospice).

    A disposition without training encounters gets 0 when it means death, else the pooled rate of the others.
    """
    mask = rows & excluded(table)
    pooled = float(y[mask].mean()) if mask.any() else 0.0
    codes = code_tables()
    rates = {}
    for code in codes.excluded_discharge_dispositions:
        chosen = mask & (table["discharge_disposition_id"] == code)
        dead = codes.describe("discharge_disposition_id", code).lower().startswith("expired")
        rates[code] = float(y[chosen].mean()) if chosen.any() else (0.0 if dead else pooled)
    return rates


@dataclass
class ReadmissionModel:
    """The shipped readmission model: encoder -> LightGBM (+ MLP) -> logit blend -> Platt calibration."""

    encoder: FeatureEncoder
    lgbm: ReadmissionLightGBM
    calibration: tuple[float, float]
    mlp: object | None = None  # MLPOnnx when loaded from a package; ReadmissionMLP right after training
    mlp_weight: float = 0.0
    excluded_rates: dict[int, float] = field(default_factory=dict)
    threshold: float = 0.5  # operating threshold on the calibrated probability
    identity: ModelIdentity | None = None

    def __post_init__(self) -> None:
        if self.identity is None:  # trained in this process, not loaded from a package
            digest = hashlib.sha256(self.lgbm.to_json().encode() + repr(self.calibration).encode()).hexdigest()
            self.identity = ModelIdentity(model_id=MODEL_NAME, model_version="unpackaged", weights_sha256=digest)

    def encode(self, table: Diabetes130Table) -> Encoded:
        """Features of every encounter (history computed from the table's own earlier encounters)."""
        return self.encoder.transform(raw_features(table))

    def component_scores(self, encoded: Encoded) -> dict[str, np.ndarray]:
        """Uncalibrated probabilities of each component (``lightgbm`` and, when present, ``mlp``)."""
        scores = {"lightgbm": self.lgbm.predict_proba(encoded.X)}
        if self.mlp is not None and self.mlp_weight > 0:
            scores["mlp"] = self.mlp.predict_proba(encoded.X)
        return scores

    def predict_encoded(self, encoded: Encoded) -> np.ndarray:
        """Calibrated probabilities from encoded features (no exclusion handling)."""
        scores = self.component_scores(encoded)
        return blend(scores["lightgbm"], scores.get("mlp"), self.mlp_weight, self.calibration)

    def predict_table(self, table: Diabetes130Table) -> tuple[np.ndarray, Encoded]:
        """Calibrated probability for every encounter; death/hospice encounters get their disposition's observed rate."""
        encoded = self.encode(table)
        probability = self.predict_encoded(encoded)
        dispositions = table["discharge_disposition_id"]
        for code, rate in self.excluded_rates.items():
            probability = np.where(dispositions == code, rate, probability)
        return probability, encoded

    def save(self) -> dict[str, bytes]:
        """The package's model files (the MLP's own files are added by the training recipe)."""
        calibration = {"method": "platt-on-blended-logit", "intercept": self.calibration[0], "slope": self.calibration[1],
                       "mlp_weight": self.mlp_weight, "threshold": self.threshold, "excluded_dispositions_rate": {str(k): v for k, v in self.excluded_rates.items()}}
        return {"lightgbm.json": self.lgbm.to_json().encode(), "encoder.json": json.dumps(self.encoder.to_dict()).encode(),
                "calibration.json": json.dumps(calibration, indent=1).encode()}

    @classmethod
    def from_package(cls, package, threads: int = 1) -> ReadmissionModel:
        """Load from a hash-checked ModelPackage (LightGBM text model, ONNX MLP, JSON encoder and calibration)."""
        calibration = json.loads(package.file("calibration.json").read_text())
        encoder = FeatureEncoder.from_dict(json.loads(package.file("encoder.json").read_text()))
        lgbm = ReadmissionLightGBM.from_json(package.file("lightgbm.json").read_text(), n_jobs=threads)
        weight = float(calibration.get("mlp_weight", 0.0))
        mlp = MLPOnnx.from_dir(package.file("mlp/mlp.onnx").parent, threads) if weight > 0 else None
        rates = {int(k): float(v) for k, v in calibration.get("excluded_dispositions_rate", {}).items()}
        return cls(encoder, lgbm, (calibration["intercept"], calibration["slope"]), mlp, weight, rates,
                   float(calibration.get("threshold", 0.5)), ModelIdentity(**package.identity()))

    @property
    def average_risk(self) -> float:
        """The training patients' 30-day readmission rate (the reference for 'above average')."""
        return float(self.encoder.risk_.prior_)
