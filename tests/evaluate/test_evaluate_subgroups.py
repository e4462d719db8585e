"""Subgroup tables: one row per level, small and missing levels kept with a note."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medai.errors import InvalidInput
from medai.evaluate import subgroup_table


def test_rows_per_level_with_small_and_missing_levels(make_predictions) -> None:
    y, p = make_predictions(400)
    rng = np.random.default_rng(1)
    sex = rng.choice(["F", "M"], y.size)
    site = np.where(np.arange(y.size) < 10, None, rng.choice(["north", "south"], y.size)).astype(object)
    rows = subgroup_table(y, p, {"sex": sex, "site": site}, threshold=0.5, min_size=30, n_boot=100)
    assert [(r.variable, r.level) for r in rows] == [
        ("overall", "overall"),
        ("sex", "F"),
        ("sex", "M"),
        ("site", "north"),
        ("site", "south"),
        ("site", "missing"),
    ]
    overall, female = rows[0], rows[1]
    assert overall.n == 400 and overall.n_positive == int(y.sum())
    assert female.n == int((sex == "F").sum())
    assert female.prevalence == pytest.approx(y[sex == "F"].mean())
    assert female.auroc.low <= female.auroc.value <= female.auroc.high
    assert 0 <= female.ece < 0.2 and female.note == ""
    missing = rows[-1]
    assert missing.n == 10 and math.isnan(missing.auroc.value) and math.isnan(missing.ece)
    assert "below min_size=30" in missing.note


def test_one_class_subgroup_is_explained() -> None:
    y = np.r_[np.zeros(40, int), np.tile([0, 1], 20)]
    p = np.linspace(0.01, 0.99, 80)
    group = np.repeat(["a", "b"], 40)
    rows = subgroup_table(y, p, {"group": group}, 0.5, n_boot=50)
    assert math.isnan(rows[1].auroc.value) and "no positive cases" in rows[1].note
    assert not math.isnan(rows[2].auroc.value)


def test_numeric_levels_cluster_and_scores_that_are_not_probabilities() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    score = rng.normal(y, 1.0)  # raw scores: no ECE
    rows = subgroup_table(y, score, {"age band": np.repeat([2, 10], 100)}, 0.0,
                          n_boot=50, cluster=np.arange(200) // 2)
    assert [r.level for r in rows[1:]] == ["2", "10"]
    assert all(math.isnan(r.ece) and "not probabilities" in r.note for r in rows)


def test_group_length_is_checked() -> None:
    with pytest.raises(InvalidInput, match=r"groups\['sex'\]: must have the same length"):
        subgroup_table([0, 1, 0], [0.1, 0.9, 0.3], {"sex": ["F", "M"]}, 0.5)
