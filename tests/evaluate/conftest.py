"""Synthetic prediction sets for the evaluation tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

Dataset = tuple[np.ndarray, np.ndarray]


@pytest.fixture
def make_predictions() -> Callable[..., Dataset]:
    """Build ``(y_true, p)``: probabilities drawn uniformly, outcomes drawn from them (so p is calibrated)."""

    def make(n: int = 2000, seed: int = 0, power: float = 1.0) -> Dataset:
        rng = np.random.default_rng(seed)
        p = rng.random(n)
        y = (rng.random(n) < p).astype(int)
        return y, p**power  # power != 1 distorts the probabilities: miscalibrated, same ranking

    return make
