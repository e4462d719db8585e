"""Bayesian maximum a posteriori (MAP) estimation of log-normal individual PK parameters.

Parameters are theta_i = theta_pop_i * exp(eta_i), eta ~ N(0, Omega). Observations follow
y = f(theta) + e with Var(e) = sigma_add^2 + (sigma_prop * f)^2. The MAP estimate minimises
eta' Omega^-1 eta + sum_j [(y_j - f_j)^2 / var_j + log var_j]; its curvature gives an
approximate posterior covariance of eta (Laplace approximation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MapResult:
    """The MAP random effects, their approximate posterior covariance and the objective value."""

    eta: np.ndarray
    covariance: np.ndarray
    objective: float
    converged: bool


def omega_from_cv(cv: Sequence, correlation: float = 0.0) -> np.ndarray:
    """Covariance of log-normal random effects from CVs: omega^2 = log(1 + CV^2), with one correlation (2 params)."""
    variances = np.log1p(np.asarray(cv, dtype=float) ** 2)
    omega = np.diag(variances)
    if len(variances) == 2 and correlation:
        omega[0, 1] = omega[1, 0] = correlation * np.sqrt(variances[0] * variances[1])
    return omega


def map_estimate(predict: Callable[[np.ndarray], np.ndarray], observed: np.ndarray, omega: np.ndarray,
                 sigma_add: float, sigma_prop: float = 0.0) -> MapResult:
    """Minimise the MAP objective over eta; ``predict(eta)`` returns predictions at the observation times."""
    from scipy.optimize import minimize

    observed = np.asarray(observed, dtype=float)
    omega_inv = np.linalg.inv(omega)

    def objective(eta: np.ndarray) -> float:
        f = predict(eta)
        var = sigma_add**2 + (sigma_prop * f) ** 2
        return float(eta @ omega_inv @ eta + np.sum((observed - f) ** 2 / var + np.log(var)))

    start = np.zeros(len(omega))
    if observed.size == 0:
        return MapResult(eta=start, covariance=omega.copy(), objective=0.0, converged=True)
    best = minimize(objective, start, method="BFGS", options={"gtol": 1e-6})
    for retry in (np.array([0.5, 0.5]), np.array([-0.5, -0.5])):
        if best.success:
            break
        candidate = minimize(objective, retry[: len(start)], method="BFGS", options={"gtol": 1e-6})
        best = candidate if candidate.fun < best.fun else best
    covariance = 2 * np.asarray(best.hess_inv)  # objective is -2 log posterior
    return MapResult(eta=best.x, covariance=covariance, objective=float(best.fun), converged=bool(best.success))
