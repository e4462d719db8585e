"""Unpenalised logistic regression on one covariate, by Newton-Raphson (for calibration fits)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit, log_expit, logit

EPS = 1e-7
"""Probabilities are clipped to [EPS, 1 - EPS] before taking their logit."""


def safe_logit(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` with ``p`` clipped away from 0 and 1."""
    return logit(np.clip(p, EPS, 1.0 - EPS))


def _log_likelihood(eta: np.ndarray, target: np.ndarray) -> float:
    return float(np.sum(target * log_expit(eta) + (1.0 - target) * log_expit(-eta)))


def fit_logistic(
    x: np.ndarray,
    target: np.ndarray,
    *,
    fit_slope: bool = True,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> tuple[float, float]:
    """Maximum-likelihood ``(intercept, slope)`` of ``P(y=1) = expit(intercept + slope * x)``.

    ``target`` may hold fractional targets in [0, 1]. With ``fit_slope=False`` the slope is fixed
    at 1 (``x`` is an offset) and only the intercept is fitted. Returns NaNs when the maximum does
    not exist (perfect separation, or a constant ``x``) or Newton's method does not converge.
    """
    design = np.column_stack([np.ones_like(x), x]) if fit_slope else np.ones((x.size, 1))
    offset = np.zeros_like(x) if fit_slope else x
    beta = np.zeros(design.shape[1])
    eta = offset.copy()
    loglik = _log_likelihood(eta, target)
    for _ in range(max_iter):
        mu = expit(eta)
        gradient = design.T @ (target - mu)
        hessian = design.T @ (design * (mu * (1.0 - mu))[:, None])
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.linalg.cond(hessian) > 1e12:
            break
        scale = 1.0
        while scale > 1e-10:  # step halving keeps every iteration uphill
            candidate = beta + scale * step
            eta = design @ candidate + offset
            new_loglik = _log_likelihood(eta, target)
            if new_loglik >= loglik - 1e-12:
                break
            scale /= 2.0
        beta, loglik = candidate, new_loglik
        if np.max(np.abs(scale * step)) < tol:
            return (float(beta[0]), float(beta[1])) if fit_slope else (float(beta[0]), 1.0)
    return math.nan, math.nan
