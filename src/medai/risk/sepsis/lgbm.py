"""Gradient-boosted trees (LightGBM) on the causal hourly features, with TreeSHAP explanations."""

from __future__ import annotations

import json

import numpy as np

from medai.risk.sepsis.features import FEATURE_NAMES


class SepsisLightGBM:
    """LightGBM classifier of the hourly sepsis label (scikit-learn estimator contract)."""

    def __init__(self, n_estimators: int = 2000, learning_rate: float = 0.02, num_leaves: int = 63,
                 min_child_samples: int = 500, subsample: float = 0.8, colsample_bytree: float = 0.5,
                 reg_lambda: float = 5.0, scale_pos_weight: float = 5.0, early_stopping_rounds: int = 100,
                 n_jobs: int = 2, seed: int = 0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.scale_pos_weight = scale_pos_weight
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.seed = seed

    def _params(self) -> dict:
        return {"objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_child_samples": self.min_child_samples, "bagging_fraction": self.subsample, "bagging_freq": 1,
                "feature_fraction": self.colsample_bytree, "lambda_l2": self.reg_lambda,
                "scale_pos_weight": self.scale_pos_weight, "num_threads": self.n_jobs, "seed": self.seed,
                "verbosity": -1, "metric": "auc"}

    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, log_every: int = 100) -> "SepsisLightGBM":
        """Boost on (X, y) with early stopping on the AUROC of (X_val, y_val)."""
        import lightgbm as lgb

        train = lgb.Dataset(X, y, feature_name=FEATURE_NAMES, free_raw_data=True)
        valid = lgb.Dataset(X_val, y_val, reference=train)
        self.booster_ = lgb.train(self._params(), train, num_boost_round=self.n_estimators, valid_sets=[valid],
                                  callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                                             lgb.log_evaluation(log_every)])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of the sepsis label for each row (before recalibration)."""
        return self.booster_.predict(X, num_threads=self.n_jobs)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions in log-odds, one column per feature (bias column dropped)."""
        return self.booster_.predict(X, pred_contrib=True, num_threads=self.n_jobs)[:, :-1]

    def to_json(self) -> str:
        """The trained booster as JSON (LightGBM's own text format wrapped with its feature names)."""
        return json.dumps({"format": "lightgbm-text", "features": FEATURE_NAMES, "model": self.booster_.model_to_string()})

    @classmethod
    def from_json(cls, text: str, n_jobs: int = 1) -> "SepsisLightGBM":
        """Load a booster written by ``to_json``; refuses a model built on other features."""
        import lightgbm as lgb

        payload = json.loads(text)
        if payload.get("format") != "lightgbm-text" or payload.get("features") != FEATURE_NAMES:
            raise ValueError("the LightGBM model was trained on a different feature set than this medai version computes")
        model = cls(n_jobs=n_jobs)
        model.booster_ = lgb.Booster(model_str=payload["model"])
        return model
