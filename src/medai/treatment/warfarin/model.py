"""The learned warfarin dose model: gradient-boosted trees blended with a median (LAD) linear model.

Both parts predict log(weekly dose) and are fitted with an absolute-error loss, so the blend
estimates the conditional median dose. Missing genotypes and clinical data are handled the way
IWPC did for VKORC1 (imputation from proxy SNPs) and otherwise as "unknown": the trees route NaN
natively, the linear part uses a missing indicator. The prediction interval comes from out-of-fold
residuals on the training data (split-conformal on the log scale).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import numpy as np

from medai.treatment.warfarin.features import FACTOR_OF, FEATURE_NAMES

FORMAT = "medai-warfarin-blend-1"


class LadLinear:
    """Median regression on standardised features with median imputation and missing indicators."""

    def __init__(self, alpha: float = 0.0005):
        self.alpha = alpha

    def _design(self, X: np.ndarray) -> np.ndarray:
        missing = np.isnan(X[:, self.indicator_cols_])
        filled = np.where(np.isnan(X), self.medians_, X)
        return (np.hstack([filled, missing]) - self.mean_) / self.scale_

    def fit(self, X: np.ndarray, y: np.ndarray) -> LadLinear:
        """Fit on features ``X`` (NaN = missing) and target ``y`` (log dose)."""
        from sklearn.linear_model import QuantileRegressor

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column gets median 0
            self.medians_ = np.nan_to_num(np.nanmedian(X, axis=0))
        self.indicator_cols_ = np.flatnonzero(np.isnan(X).any(axis=0))
        raw = np.hstack([np.where(np.isnan(X), self.medians_, X), np.isnan(X[:, self.indicator_cols_])])
        self.mean_, self.scale_ = raw.mean(axis=0), raw.std(axis=0) + 1e-9
        fit = QuantileRegressor(quantile=0.5, alpha=self.alpha, solver="highs").fit(self._design(X), y)
        self.coef_, self.intercept_ = fit.coef_, float(fit.intercept_)
        return self

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-column contributions (features, then missing indicators) around the training mean."""
        return self._design(X) * self.coef_

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted log dose."""
        return self.intercept_ + self.contributions(X).sum(axis=1)

    def column_features(self) -> list[str]:
        """The feature each design column belongs to (missing indicators map to their feature)."""
        return FEATURE_NAMES + [FEATURE_NAMES[i] for i in self.indicator_cols_]

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "medians": self.medians_.tolist(), "indicator_cols": self.indicator_cols_.tolist(),
                "mean": self.mean_.tolist(), "scale": self.scale_.tolist(), "coef": self.coef_.tolist(),
                "intercept": self.intercept_}

    @classmethod
    def from_dict(cls, d: dict) -> LadLinear:
        model = cls(alpha=d["alpha"])
        model.medians_, model.indicator_cols_ = np.array(d["medians"]), np.array(d["indicator_cols"], dtype=int)
        model.mean_, model.scale_, model.coef_ = np.array(d["mean"]), np.array(d["scale"]), np.array(d["coef"])
        model.intercept_ = float(d["intercept"])
        return model


@dataclass(frozen=True)
class Factor:
    """How much one clinical factor moved the predicted dose, relative to the training-cohort baseline."""

    factor: str
    percent: float

    def __str__(self) -> str:
        return f"{self.factor} {self.percent:+.0f}%"


class WarfarinDoseModel:
    """Predicts the stable weekly warfarin dose (mg/week) with an interval and its factors.

    scikit-learn contract: the constructor stores parameters, ``fit`` returns ``self`` and learned
    state ends in ``_``. ``fit`` takes a feature matrix from :func:`feature_matrix` and doses in mg/week.
    """

    def __init__(self, trees_weight: float = 0.5, n_estimators: int = 1100, learning_rate: float = 0.02,
                 num_leaves: int = 7, min_child_samples: int = 30, linear_alpha: float = 0.0005,
                 interval: float = 0.8, n_folds: int = 5, n_jobs: int = 2, seed: int = 0):
        self.trees_weight = trees_weight
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.linear_alpha = linear_alpha
        self.interval = interval
        self.n_folds = n_folds
        self.n_jobs = n_jobs
        self.seed = seed

    def _tree_params(self) -> dict:
        return {"objective": "l1", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_child_samples": self.min_child_samples, "feature_fraction": 0.7, "bagging_fraction": 0.8,
                "bagging_freq": 1, "lambda_l2": 1.0, "verbosity": -1, "num_threads": self.n_jobs, "seed": self.seed}

    def _fit_parts(self, X: np.ndarray, log_dose: np.ndarray):
        import lightgbm as lgb

        trees = lgb.train(self._tree_params(), lgb.Dataset(X, log_dose, feature_name=FEATURE_NAMES),
                          num_boost_round=self.n_estimators)
        return trees, LadLinear(self.linear_alpha).fit(X, log_dose)

    def _blend(self, trees, linear: LadLinear, X: np.ndarray) -> np.ndarray:
        return self.trees_weight * trees.predict(X, num_threads=self.n_jobs) + (1 - self.trees_weight) * linear.predict(X)

    def fit(self, X: np.ndarray, doses: np.ndarray) -> WarfarinDoseModel:
        """Fit on features ``X`` and stable weekly doses (mg/week, all positive)."""
        doses = np.asarray(doses, dtype=float)
        if X.shape != (len(doses), len(FEATURE_NAMES)) or not np.all(doses > 0):
            raise ValueError(f"X must be (n, {len(FEATURE_NAMES)}) and every dose positive")
        log_dose = np.log(doses)
        folds = np.random.default_rng(self.seed).integers(0, self.n_folds, len(doses))
        residuals = np.empty(len(doses))
        for fold in range(self.n_folds):
            held = folds == fold
            trees, linear = self._fit_parts(X[~held], log_dose[~held])
            residuals[held] = log_dose[held] - self._blend(trees, linear, X[held])
        tail = (1 - self.interval) / 2
        self.residual_quantiles_ = (float(np.quantile(residuals, tail)), float(np.quantile(residuals, 1 - tail)))
        self.trees_, self.linear_ = self._fit_parts(X, log_dose)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted stable weekly dose, mg/week."""
        return np.exp(self._blend(self.trees_, self.linear_, X))

    def predict_interval(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the ``interval`` prediction interval, mg/week."""
        centre = self._blend(self.trees_, self.linear_, X)
        low, high = self.residual_quantiles_
        return np.exp(centre + low), np.exp(centre + high)

    def explain(self, X: np.ndarray) -> list[list[Factor]]:
        """For each row, the factors that moved the dose, largest effect first (percent change vs baseline)."""
        tree_parts = self.trees_.predict(X, pred_contrib=True, num_threads=self.n_jobs)[:, :-1]
        linear_parts = self.linear_.contributions(X)
        explained = []
        for t_row, l_row in zip(tree_parts, linear_parts):
            per_factor: dict[str, float] = {}
            for name, value in zip(FEATURE_NAMES, t_row):
                per_factor[FACTOR_OF[name]] = per_factor.get(FACTOR_OF[name], 0.0) + self.trees_weight * value
            for name, value in zip(self.linear_.column_features(), l_row):
                per_factor[FACTOR_OF[name]] = per_factor.get(FACTOR_OF[name], 0.0) + (1 - self.trees_weight) * value
            factors = [Factor(k, 100 * (np.exp(v) - 1)) for k, v in per_factor.items() if abs(v) >= 0.01]
            explained.append(sorted(factors, key=lambda f: -abs(f.percent)))
        return explained

    def to_json(self) -> str:
        """The fitted model as JSON (LightGBM's text format inside; no pickles)."""
        params = {k: getattr(self, k) for k in ("trees_weight", "n_estimators", "learning_rate", "num_leaves",
                                                "min_child_samples", "linear_alpha", "interval", "n_folds", "seed")}
        return json.dumps({"format": FORMAT, "features": FEATURE_NAMES, "params": params,
                           "residual_quantiles": list(self.residual_quantiles_), "linear": self.linear_.to_dict(),
                           "trees": self.trees_.model_to_string()})

    @classmethod
    def from_json(cls, text: str, n_jobs: int = 1) -> WarfarinDoseModel:
        """Load a model written by :meth:`to_json`; refuses one built on other features."""
        import lightgbm as lgb

        payload = json.loads(text)
        if payload.get("format") != FORMAT or payload.get("features") != FEATURE_NAMES:
            raise ValueError("the warfarin model was built for a different feature set than this medai version computes")
        model = cls(**payload["params"], n_jobs=n_jobs)
        model.residual_quantiles_ = tuple(payload["residual_quantiles"])
        model.linear_ = LadLinear.from_dict(payload["linear"])
        model.trees_ = lgb.Booster(model_str=payload["trees"])
        return model
