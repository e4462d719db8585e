"""The ensemble forecaster: member models combined level by level, forecasting horizons from a reference date.

Members are the hub-style baseline (:mod:`~medai.forecast.baseline`), statsforecast models
(:mod:`~medai.forecast.statistical`) and the global deep model (:mod:`~medai.forecast.network`).
Each forecasts the periods after the panel's last date; the ensemble maps them onto the requested
horizons of the reference date (a horizon at or before the last date is the observed value) and
combines the members' quantiles by their median or weighted mean, per level. Members with weight 0
are fitted and reported (:meth:`member_forecasts`) but left out of the combination.

With ``total`` set (e.g. ``US``), the total series is made coherent with its parts: when every
other series is forecast and the total's last report equals the parts' sum (within 2%), the total's
quantiles are scaled so that its median is the sum of the parts' medians (its relative spread is kept).
``spread`` recalibrates the intervals: each quantile moves that many times its distance from the
median on the log scale (chosen where backtests show the intervals too narrow).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from medai.errors import InvalidInput, Problem
from medai.forecast.baseline import FlatBaseline
from medai.forecast.panel import Panel
from medai.forecast.quantiles import HUB_LEVELS, QuantileForecast, combine, monotone
from medai.forecast.statistical import StatsForecaster

KINDS = ("network", "stats", "baseline")


@dataclass(frozen=True)
class MemberSpec:
    """One ensemble member: a name, its kind (network, stats or baseline), constructor parameters, weight in
    the ensemble, and (networks) which auxiliary training series it learns from."""

    name: str
    kind: str
    params: dict = field(default_factory=dict)
    weight: float = 1.0
    auxiliary: str = "none"

    def build(self, levels: Sequence[float], max_lag: int):
        """A fresh, unfitted estimator for this member."""
        if self.kind == "network":
            from medai.forecast.network import GlobalQuantileNet

            return GlobalQuantileNet(levels=levels, max_lag=max_lag, **self.params)
        if self.kind == "stats":
            return StatsForecaster(levels=levels, max_lag=max_lag, **self.params)
        if self.kind == "baseline":
            return FlatBaseline(levels=levels, max_lag=max_lag, **self.params)
        raise ValueError(f"member {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")


class EnsembleForecaster:
    """Quantile ensemble of forecasters (see the module docstring); scikit-learn style ``fit`` / ``predict``."""

    def __init__(self, name: str, members: Sequence[MemberSpec], horizons: Sequence[int], step_days: int,
                 levels: Sequence[float] = HUB_LEVELS, combination: str = "mean", max_lag: int = 2, total: str | None = None,
                 spread: float = 1.0):
        self.name = name
        self.members = members
        self.horizons = horizons
        self.step_days = step_days
        self.levels = levels
        self.combination = combination
        self.max_lag = max_lag
        self.total = total
        self.spread = spread

    def fit(self, panel: Panel, auxiliary: Mapping[str, Sequence[Panel]] | None = None) -> EnsembleForecaster:
        """Fit every member on ``panel``; a network member also learns from ``auxiliary[member.auxiliary]``."""
        if self.combination not in ("median", "mean"):
            raise ValueError(f"combination must be 'median' or 'mean', got {self.combination!r}")
        self._check_panel(panel)
        auxiliary = auxiliary or {}
        self.estimators_ = {}
        for spec in self.members:
            estimator = spec.build(self.levels, self.max_lag)
            if spec.kind == "network":
                self.estimators_[spec.name] = estimator.fit(panel, auxiliary.get(spec.auxiliary, ()))
            else:
                self.estimators_[spec.name] = estimator.fit(panel)
        self.panel_ = panel
        return self

    def use_panel(self, panel: Panel) -> EnsembleForecaster:
        """Forecast from newer data without retraining the networks (the local members refit, which is cheap)."""
        self._check_panel(panel)
        for spec in self.members:
            estimator = self.estimators_[spec.name]
            if spec.kind == "network":
                estimator.use_panel(panel)
            else:
                estimator.fit(panel)
        self.panel_ = panel
        return self

    def _check_panel(self, panel: Panel) -> None:
        if panel.step_days != self.step_days:
            raise InvalidInput(Problem("data", f"{self.name} forecasts series spaced {self.step_days} days apart, "
                                       f"got {panel.step_days}", "value"))

    def steps_for(self, reference_date: date) -> list[int]:
        """Periods after the panel's last date that each horizon of ``reference_date`` falls on."""
        offset = (reference_date - self.panel_.end).days
        if offset % self.step_days:
            raise InvalidInput(Problem("reference_date", f"{reference_date} is not on the data's {self.step_days}-day grid "
                                       f"(last period {self.panel_.end})", "value"))
        return [offset // self.step_days + h for h in self.horizons]

    def member_forecasts(self, reference_date: date) -> dict[str, np.ndarray]:
        """Each member's quantiles ``(series, horizons, levels)`` for ``reference_date`` (before combining)."""
        steps = self.steps_for(reference_date)
        ahead = max(steps)
        out = {}
        for spec in self.members:
            predicted = self.estimators_[spec.name].predict(ahead) if ahead > 0 else None
            values = np.full((len(self.panel_.ids), len(steps), len(self.levels)), np.nan)
            for h, step in enumerate(steps):
                values[:, h] = predicted[:, step - 1] if step > 0 else self._observed(step)
            out[spec.name] = values
        return out

    def _observed(self, step: int) -> np.ndarray:
        """A period already in the data: every quantile is the observed value (NaN if it was not reported)."""
        observed = self.panel_.values[:, self.panel_.n_times - 1 + step]
        return np.repeat(observed[:, None], len(self.levels), axis=1)

    def predict(self, reference_date: date) -> QuantileForecast:
        """The combined forecast; series no member could forecast are left out."""
        members = self.member_forecasts(reference_date)
        used = [spec for spec in self.members if spec.weight > 0]
        stack = [members[spec.name] for spec in used]
        if self.combination == "median":
            with np.errstate(all="ignore"):
                combined = np.nanmedian(np.stack(stack), axis=0) if len(stack) > 1 else stack[0]
        else:
            combined = combine(stack, [spec.weight for spec in used])
        combined = self._widened(self._coherent(combined))
        keep = ~np.isnan(combined).any(axis=(1, 2))
        ids = tuple(i for i, k in zip(self.panel_.ids, keep) if k)
        return QuantileForecast(self.name, ids, reference_date, self.step_days, tuple(self.horizons), tuple(self.levels),
                                monotone(combined[keep]))

    def _coherent(self, values: np.ndarray) -> np.ndarray:
        """Scale the total's quantiles so its median is the sum of its parts' medians (see the class docstring)."""
        if self.total is None or self.total not in self.panel_.ids:
            return values
        t = self.panel_.ids.index(self.total)
        parts = [i for i in range(len(self.panel_.ids)) if i != t]
        last = self.panel_.values[:, -1]
        median = values[:, :, list(self.levels).index(0.5)]
        if np.isnan(median[parts]).any() or np.isnan(last).any() or not np.isclose(last[t], last[parts].sum(), rtol=0.02):
            return values
        out = values.copy()
        out[t] *= (median[parts].sum(axis=0) / np.maximum(median[t], 1e-9))[:, None]
        return out

    def _widened(self, values: np.ndarray) -> np.ndarray:
        """Every quantile moved ``spread`` times its distance from the median, on the log scale (1 = unchanged)."""
        if self.spread == 1.0:
            return values
        z = np.log1p(np.maximum(values, 0))
        median = z[..., [list(self.levels).index(0.5)]]
        return np.expm1(median + self.spread * (z - median))

    # -- persistence ---------------------------------------------------------------------------

    def config(self) -> dict:
        """Everything but the learned weights, as JSON-ready data."""
        return {"name": self.name, "members": [asdict(m) for m in self.members], "horizons": list(self.horizons),
                "step_days": self.step_days, "levels": list(self.levels), "combination": self.combination,
                "max_lag": self.max_lag, "total": self.total, "spread": self.spread}

    @classmethod
    def from_config(cls, config: dict) -> EnsembleForecaster:
        """An unfitted forecaster from :meth:`config` output."""
        members = [MemberSpec(**m) for m in config["members"]]
        return cls(config["name"], members, config["horizons"], config["step_days"], config["levels"],
                   config["combination"], config["max_lag"], config.get("total"), config.get("spread", 1.0))

    def save_weights(self, folder: Path) -> dict[str, Path]:
        """Write ``config.json`` and one safetensors file per network member; return {relative path: file}."""
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        files = {"config.json": folder / "config.json"}
        files["config.json"].write_text(json.dumps(self.config(), indent=1))
        for spec in self.members:
            if spec.kind == "network":
                path = folder / f"{spec.name}.safetensors"
                save_file({k: v.contiguous() for k, v in self.estimators_[spec.name].state_dict().items()}, str(path))
                files[path.name] = path
        return files

    @classmethod
    def load_weights(cls, folder: Path, files: dict[str, Path] | None = None) -> EnsembleForecaster:
        """A forecaster with trained networks from :meth:`save_weights`; call :meth:`use_panel` before predicting."""
        from safetensors.torch import load_file

        files = files or {}
        config = json.loads((files.get("config.json") or folder / "config.json").read_text())
        forecaster = cls.from_config(config)
        forecaster.estimators_ = {}
        for spec in forecaster.members:
            estimator = spec.build(forecaster.levels, forecaster.max_lag)
            if spec.kind == "network":
                state = load_file(str(files.get(f"{spec.name}.safetensors") or folder / f"{spec.name}.safetensors"))
                estimator.load_state_dict(state, estimator.n_inputs)
            forecaster.estimators_[spec.name] = estimator
        return forecaster
