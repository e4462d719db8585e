"""Admissions -> census through a length-of-stay (LOS) distribution, for "what if" scenario planning.

``S(k)`` is the probability that a patient admitted on day ``d`` is still in hospital on day ``d + k``.
Expected census is the admissions convolved with ``S``: ``census[t] = c * sum_k admissions[t-k] * S(k)``
(``c`` absorbs patients counted without a recorded admission). ``S`` is fitted either from daily
admissions and census series (a discretised gamma LOS, least squares pooled over locations) or from
individual stays (Kaplan-Meier, stays still in progress censored).

A scenario projects the census from a day ``T`` with future admissions at the recent mean times
``1 + uplift``: patients already in hospital leave by the LOS distribution of their admission day,
new patients arrive as a negative-binomial stream and stay by ``S``. Simulation gives quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from medai.errors import InvalidInput, Problem
from medai.forecast.panel import Panel
from medai.forecast.quantiles import HUB_LEVELS

MAX_DAYS = 90


def gamma_survival(mean: float, shape: float, days: int = MAX_DAYS) -> np.ndarray:
    """``S(k)``, k = 0..days-1, of a gamma LOS (in days) with this mean and shape, discretised by day."""
    return stats.gamma.sf(np.arange(days), a=shape, scale=mean / shape)


def _expected(admissions: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """``sum_k admissions[t-k] * S(k)`` for every t (NaN where the admission history is incomplete)."""
    out = np.full(admissions.shape, np.nan)
    days = len(survival)
    for t in range(days - 1, admissions.shape[-1]):
        out[..., t] = admissions[..., t - days + 1:t + 1][..., ::-1] @ survival
    return out


@dataclass(frozen=True)
class Scenario:
    """A projected census: quantiles ``values[h, q]`` for days ``T+1..T+H`` under an admissions uplift."""

    uplift: float
    expected_admissions_per_day: float
    levels: tuple[float, ...]
    values: np.ndarray


class LengthOfStay:
    """LOS model behind admissions -> census projections (see the module docstring)."""

    def __init__(self, days: int = MAX_DAYS):
        self.days = days

    def fit(self, admissions: Panel, census: Panel) -> LengthOfStay:
        """Fit a gamma LOS and the scale ``c`` by least squares on every location's complete days."""
        common = [i for i in admissions.ids if i in census.ids]
        if not common:
            raise InvalidInput(Problem("census", "no location has both admissions and census", "required"))
        a, y = _aligned(admissions.select(common), census.select(common), self.days)

        def residuals(params: np.ndarray) -> np.ndarray:
            mean, shape, scale = np.exp(params)
            expected = scale * _expected(np.nan_to_num(a), gamma_survival(mean, shape, self.days))
            usable = ~np.isnan(y) & ~np.isnan(expected) & _complete(a, self.days)
            return ((expected - y)[usable]) / np.sqrt(np.maximum(y[usable], 1))

        result = optimize.least_squares(residuals, np.log([7.0, 1.5, 1.0]), bounds=(np.log([1, 0.1, 0.2]), np.log([60, 20, 5])))
        mean, shape, scale = np.exp(result.x)
        self.mean_days_, self.shape_, self.scale_ = float(mean), float(shape), float(scale)
        self.survival_ = gamma_survival(mean, shape, self.days)
        return self

    def fit_stays(self, lengths_days: Sequence[float], ongoing: Sequence[bool]) -> LengthOfStay:
        """Kaplan-Meier ``S`` from individual stays (``ongoing`` = still in hospital, censored); beyond the longest
        stay seen nobody is assumed to stay."""
        lengths, censored = np.asarray(lengths_days, dtype=float), np.asarray(ongoing, dtype=bool)
        if lengths.size == 0 or np.any(lengths < 0):
            raise InvalidInput(Problem("stays", "need at least one stay and no negative lengths", "value"))
        survival = np.ones(self.days)
        alive = 1.0
        for k in range(1, self.days):
            at_risk = np.sum(lengths >= k - 1)
            left = np.sum((lengths >= k - 1) & (lengths < k) & ~censored)
            alive = alive * (1 - left / at_risk) if at_risk else 0.0  # nobody observed this long: no longer stays assumed
            survival[k] = alive
        self.survival_, self.scale_ = survival, 1.0
        self.mean_days_, self.shape_ = float(survival.sum()), float("nan")
        return self

    def expected_census(self, admissions: np.ndarray) -> np.ndarray:
        """Expected census for a daily admissions series (NaN until ``days`` of history exist)."""
        return self.scale_ * _expected(np.asarray(admissions, dtype=float), self.survival_)

    def scenario(self, admissions: np.ndarray, census_now: float, horizon: int = 14, uplift: float = 0.0,
                 levels: Sequence[float] = HUB_LEVELS, n_sims: int = 4000, seed: int = 0) -> Scenario:
        """Census for the next ``horizon`` days if admissions run at the last 7 days' mean times ``1 + uplift``."""
        history = np.asarray(admissions, dtype=float)
        recent = history[-28:][~np.isnan(history[-28:])]
        if recent.size < 7:
            raise InvalidInput(Problem("admissions", "need at least 7 of the last 28 days of admissions", "required"))
        if uplift <= -1:
            raise InvalidInput(Problem("uplift", "an uplift of -100% or less leaves no admissions", "value"))
        rate = recent[-7:].mean() * (1 + uplift)
        dispersion = _nb_size(recent)
        survival = self.survival_
        past = np.nan_to_num(history[::-1][: self.days - horizon])
        stay_now = past @ survival[: past.size]
        leaving = [(past @ survival[h: h + past.size]) / stay_now if stay_now > 0 else 0.0 for h in range(1, horizon + 1)]
        rng = np.random.default_rng(seed)
        arrivals = rng.negative_binomial(dispersion, dispersion / (dispersion + rate), size=(n_sims, horizon)) if rate > 0 \
            else np.zeros((n_sims, horizon), dtype=int)
        paths = np.empty((n_sims, horizon))
        for h in range(horizon):
            remaining = rng.binomial(int(round(census_now)), min(1.0, leaving[h]), size=n_sims)
            newcomers = sum(rng.binomial(arrivals[:, j], survival[h - j]) for j in range(h + 1))
            paths[:, h] = remaining + newcomers * self.scale_
        return Scenario(uplift, float(rate), tuple(levels), np.quantile(paths, levels, axis=0).T)


def _nb_size(counts: np.ndarray) -> float:
    """Negative-binomial size from the day-to-day spread of recent admissions (large = nearly Poisson)."""
    mean, variance = counts.mean(), counts.var(ddof=1) if counts.size > 1 else counts.mean()
    return float(mean**2 / (variance - mean)) if variance > mean > 0 else 1e6


def _aligned(admissions: Panel, census: Panel, days: int) -> tuple[np.ndarray, np.ndarray]:
    start = min(admissions.start, census.start)
    end = max(admissions.end, census.end)
    width = (end - start).days + 1
    a, y = np.full((len(admissions.ids), width), np.nan), np.full((len(census.ids), width), np.nan)
    for panel, out in ((admissions, a), (census, y)):
        offset = (panel.start - start).days
        out[:, offset:offset + panel.n_times] = panel.values
    return a, y


def _complete(admissions: np.ndarray, days: int) -> np.ndarray:
    """Days whose whole ``days``-long admission history is reported."""
    missing = np.isnan(admissions).astype(float)
    window = np.ones(days)
    count = np.stack([np.convolve(row, window)[: row.size] for row in missing])
    complete = count == 0
    complete[:, : days - 1] = False
    return complete
