"""Binary metrics: agreement with scikit-learn, hand-worked confusion matrices, intervals and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from medai.errors import InvalidInput
from medai.evaluate import METRICS, Estimate, binary_metrics, bootstrap_ci


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("decimals", [None, 1])  # 1 decimal makes many tied scores
def test_auroc_and_auprc_match_sklearn(seed: int, decimals: int | None) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    score = rng.normal(y * 0.7, 1.0)
    if decimals is not None:
        score = np.round(score, decimals)
    result = binary_metrics(y, score, 0.0, n_boot=0)
    assert result.auroc.value == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert result.auprc.value == pytest.approx(average_precision_score(y, score), abs=1e-12)


def test_hand_worked_confusion_matrix() -> None:
    y = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    score = [0.9, 0.8, 0.5, 0.2, 0.7, 0.5, 0.3, 0.2, 0.1, 0.0]
    # score >= 0.5 calls 0.9, 0.8, 0.5 (positives) and 0.7, 0.5 (negatives): tp=3 fn=1 fp=2 tn=4.
    result = binary_metrics(y, score, 0.5, n_boot=0)
    assert (result.tp, result.fn, result.fp, result.tn) == (3, 1, 2, 4)
    assert result.sensitivity.value == pytest.approx(3 / 4)
    assert result.specificity.value == pytest.approx(4 / 6)
    assert result.ppv.value == pytest.approx(3 / 5)
    assert result.npv.value == pytest.approx(4 / 5)
    assert result.f1.value == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert result.prevalence.value == pytest.approx(0.4)
    assert result.n.value == 10
    assert math.isnan(result.auroc.low) and result.resampling == "none"


def test_intervals_contain_the_estimate_and_shrink_with_n(make_predictions) -> None:
    widths = []
    for n in (300, 3000):
        y, p = make_predictions(n)
        result = binary_metrics(y, p, 0.5, n_boot=300)
        for name in ("auroc", "auprc", "sensitivity", "specificity", "ppv", "npv", "f1"):
            estimate = getattr(result, name)
            assert estimate.low <= estimate.value <= estimate.high, name
        widths.append(result.auroc.high - result.auroc.low)
    assert widths[1] < widths[0] / 2  # width scales like 1/sqrt(n): 10x the data, ~3x narrower


def test_stratified_bootstrap_keeps_prevalence_and_is_reproducible(make_predictions) -> None:
    y, p = make_predictions(500)
    first = binary_metrics(y, p, 0.5, n_boot=200, seed=7)
    assert first.prevalence.low == first.prevalence.high == pytest.approx(y.mean())
    assert first == binary_metrics(y, p, 0.5, n_boot=200, seed=7)
    assert first.auroc != binary_metrics(y, p, 0.5, n_boot=200, seed=8).auroc


def test_cluster_bootstrap_resamples_patients(make_predictions) -> None:
    # 200 patients, each contributing 10 identical rows: the information is that of 200 rows,
    # which only the cluster bootstrap sees.
    y, p = make_predictions(200, seed=3)
    patient = np.repeat(np.arange(200), 10)
    y_rows, p_rows = y[patient], p[patient]
    naive = binary_metrics(y_rows, p_rows, 0.5, n_boot=300)
    clustered = binary_metrics(y_rows, p_rows, 0.5, n_boot=300, cluster=patient)
    per_patient = binary_metrics(y, p, 0.5, n_boot=300)
    assert clustered.auroc.value == naive.auroc.value
    naive_width = naive.auroc.high - naive.auroc.low
    clustered_width = clustered.auroc.high - clustered.auroc.low
    patient_width = per_patient.auroc.high - per_patient.auroc.low
    assert clustered_width > 2 * naive_width
    assert clustered_width == pytest.approx(patient_width, rel=0.3)
    assert clustered.resampling.startswith("clusters (200)")


def test_cluster_ids_may_be_strings() -> None:
    y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    score = np.array([0.1, 0.9, 0.3, 0.6, 0.2, 0.8, 0.4, 0.5])
    ids = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    result = binary_metrics(y, score, 0.5, n_boot=100, cluster=ids)
    assert result.resampling.startswith("clusters (4)")


def test_one_class_only_gives_nan_and_a_clear_message() -> None:
    with pytest.warns(UserWarning, match="no positive cases.*AUROC"):
        result = binary_metrics([0, 0, 0, 0], [0.1, 0.4, 0.6, 0.2], 0.5, n_boot=0)
    assert math.isnan(result.auroc.value) and math.isnan(result.sensitivity.value)
    assert result.specificity.value == pytest.approx(0.75)
    assert any("no positive cases" in note for note in result.notes)
    assert json.dumps(result.to_dict(), allow_nan=False)  # NaN -> null


def test_warn_false_keeps_notes_without_warning(recwarn) -> None:
    result = binary_metrics([1, 1, 1], [0.1, 0.4, 0.6], 0.5, n_boot=0, warn=False)
    assert len(recwarn) == 0
    assert any("no negative cases" in note for note in result.notes)


def test_undefined_resamples_are_reported() -> None:
    # a single case reaches the threshold: many resamples call no one positive, so PPV is undefined there
    y = np.array([1] * 5 + [0] * 45)
    score = np.r_[0.9, np.full(4, 0.3), np.linspace(0.0, 0.4, 45)]
    result = binary_metrics(y, score, 0.8, n_boot=200, warn=False)
    assert result.ppv.value == 1.0
    assert any(note.startswith("PPV was undefined in") for note in result.notes)


@pytest.mark.parametrize(
    ("y_true", "y_score", "message"),
    [
        ([0, 1, 1], [0.1, 0.2], "y_true, y_score: must have the same length, but y_true has 3, y_score has 2"),
        ([0, 1, 1], [0.1, float("nan"), 0.3], "y_score: contains 1 NaN values \\(first at index 1\\)"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "y_true: must contain only 0 and 1 .* found 2"),
        (["no", "yes"], [0.1, 0.2], "y_true: must hold 0/1 labels"),
        ([0, None, 1], [0.1, 0.2, 0.3], "y_true: contains 1 missing values"),
        ([[0, 1]], [[0.1, 0.2]], "y_true: must be a 1-D array, got shape \\(1, 2\\)"),
        ([], [], "y_true: is empty"),
        ([0, 1], [0.1, float("inf")], "y_score: contains 1 infinite values"),
    ],
)
def test_bad_input_is_named(y_true, y_score, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        binary_metrics(y_true, y_score, 0.5, n_boot=0)


def test_bad_options_are_named() -> None:
    with pytest.raises(ValueError, match="ci: must be a confidence level"):
        binary_metrics([0, 1], [0.1, 0.9], 0.5, ci=95)
    with pytest.raises(ValueError, match="n_boot: must be a non-negative integer"):
        binary_metrics([0, 1], [0.1, 0.9], 0.5, n_boot=-1)
    with pytest.raises(ValueError, match="threshold: must be finite"):
        binary_metrics([0, 1], [0.1, 0.9], float("nan"))
    with pytest.raises(ValueError, match="y_true, cluster: must have the same length"):
        binary_metrics([0, 1], [0.1, 0.9], 0.5, cluster=[1, 2, 3])


def test_bootstrap_ci_generic_matches_fast_path(make_predictions) -> None:
    y, p = make_predictions(400)
    fast = binary_metrics(y, p, 0.5, n_boot=300)
    generic = bootstrap_ci(roc_auc_score, y, p, n_boot=300, strata=y)
    assert generic.value == fast.auroc.value
    assert generic.low == pytest.approx(fast.auroc.low, abs=0.02)
    assert generic.high == pytest.approx(fast.auroc.high, abs=0.02)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_bootstrap_ci_by_cluster_skips_failed_resamples() -> None:
    # few clusters: some resamples hold one class only, where roc_auc_score fails (NaN or ValueError)
    y = np.array([0, 0, 1, 1, 0, 1])
    score = np.array([0.1, 0.2, 0.8, 0.7, 0.4, 0.6])
    estimate = bootstrap_ci(roc_auc_score, y, score, n_boot=100, cluster=[0, 0, 1, 1, 2, 3])
    assert estimate.value == 1.0 and estimate.low <= estimate.high


def test_bootstrap_strata_must_be_constant_within_clusters() -> None:
    with pytest.raises(ValueError, match="strata: must be constant within each cluster"):
        bootstrap_ci(np.mean, [1.0, 2.0, 3.0], n_boot=10, strata=[0, 1, 1], cluster=[0, 0, 1])


def test_results_serialise_to_json() -> None:
    result = binary_metrics([0, 1, 0, 1, 1, 0], [0.2, 0.7, 0.4, 0.9, 0.3, 0.1], 0.5, n_boot=50, warn=False)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(METRICS) <= set(data)
    assert set(data["auroc"]) == {"value", "low", "high"}
    assert str(Estimate(0.81234, 0.7, 0.9)) == "0.812 (0.700\u20130.900)"
    assert Estimate(float("nan")).to_dict() == {"value": None, "low": None, "high": None}
