"""The challenge utility on hand-worked cases, and the vectorised code against a plain per-hour reference."""

import numpy as np
import pytest

from medai.errors import InvalidInput
from medai.risk.sepsis.utility import best_threshold, normalized_utility, patient_utility, utility_curve


def reference_patient_utility(labels, predictions, dt_early=-12, dt_optimal=-6, dt_late=3,
                              max_u_tp=1.0, min_u_fn=-2.0, u_fp=-0.05, u_tn=0.0):
    """The published definition written out hour by hour."""
    septic = any(labels)
    t_sepsis = list(labels).index(1) - dt_optimal if septic else float("inf")
    m1 = max_u_tp / (dt_optimal - dt_early); b1 = -m1 * dt_early
    m2 = -max_u_tp / (dt_late - dt_optimal); b2 = -m2 * dt_late
    m3 = min_u_fn / (dt_late - dt_optimal); b3 = -m3 * dt_optimal
    total = 0.0
    for t, p in enumerate(predictions):
        if t > t_sepsis + dt_late:
            continue
        if septic and p:
            total += max(m1 * (t - t_sepsis) + b1, u_fp) if t <= t_sepsis + dt_optimal else m2 * (t - t_sepsis) + b2
        elif septic:
            total += 0.0 if t <= t_sepsis + dt_optimal else m3 * (t - t_sepsis) + b3
        elif p:
            total += u_fp
        else:
            total += u_tn
    return total


def reference_normalized(labels_list, predictions_list):
    observed = best = inaction = 0.0
    for labels, predictions in zip(labels_list, predictions_list):
        n = len(labels)
        ideal = np.zeros(n, dtype=int)
        if any(labels):
            t_sepsis = list(labels).index(1) + 6
            ideal[max(0, t_sepsis - 12):min(t_sepsis + 3 + 1, n)] = 1
        observed += reference_patient_utility(labels, predictions)
        best += reference_patient_utility(labels, ideal)
        inaction += reference_patient_utility(labels, np.zeros(n, dtype=int))
    return (observed - inaction) / (best - inaction)


def random_cohort(rng, n_patients, septic_share=0.3):
    labels, scores = [], []
    for _ in range(n_patients):
        n = int(rng.integers(1, 60))
        y = np.zeros(n, dtype=int)
        if rng.random() < septic_share:
            y[int(rng.integers(0, n)):] = 1
        labels.append(y)
        scores.append(rng.random(n) + 0.3 * y)
    return labels, scores


def test_hand_worked_septic_patient():
    # first positive at 4 -> t_sepsis 10; alarms at t=2,3,4 (rising ramp) and 5 (falling ramp)
    expected = (-8 / 6 + 2) + (-7 / 6 + 2) + 1.0 + (5 / 9 + 3 / 9)
    assert patient_utility([0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 1, 1]) == pytest.approx(3.388888888888889)
    assert patient_utility([0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 1, 1]) == pytest.approx(expected)


def test_non_septic_patient_with_three_alarms():
    assert patient_utility([0] * 8, [0, 1, 0, 1, 1, 0, 0, 0]) == pytest.approx(-0.15)
    assert patient_utility([0] * 8, [0] * 8) == 0.0


def test_very_early_alarm_costs_a_false_positive():
    labels = [0] * 20 + [1] * 10  # t_sepsis = 26, so t = 0..13 are before t_sepsis - 12
    predictions = np.zeros(30, dtype=int)
    predictions[0] = 1
    assert patient_utility(labels, predictions) == pytest.approx(-0.05 + patient_utility(labels, np.zeros(30)))


def test_late_hours_do_not_count():
    labels = np.array([0] * 5 + [1] * 20)  # t_sepsis = 11, counted up to t = 14
    late = np.zeros(25, dtype=int)
    late[15:] = 1
    silent = np.zeros(25, dtype=int)
    assert patient_utility(labels, late) == pytest.approx(patient_utility(labels, silent))
    # missing the whole window costs the FN ramp from t_sepsis - 6 to t_sepsis + 3
    fn = sum(-2 / 9 * (t - 11) - 12 / 9 for t in range(6, 15))
    assert patient_utility(labels, silent) == pytest.approx(fn)


def test_perfect_and_no_predictions_normalise_to_one_and_zero():
    labels = [np.array([0] * 10 + [1] * 12), np.zeros(30, dtype=int), np.array([1] * 5)]
    best = []
    for y in labels:
        p = np.zeros(len(y), dtype=int)
        if y.any():
            t_sepsis = int(np.argmax(y)) + 6
            p[max(0, t_sepsis - 12):min(t_sepsis + 4, len(y))] = 1
        best.append(p)
    assert normalized_utility(labels, best) == pytest.approx(1.0)
    assert normalized_utility(labels, [np.zeros(len(y)) for y in labels]) == pytest.approx(0.0)


def test_vectorised_matches_reference():
    rng = np.random.default_rng(0)
    labels, scores = random_cohort(rng, 300)
    for threshold in (0.3, 0.7, 1.0):
        predictions = [(s >= threshold).astype(int) for s in scores]
        for y, p in zip(labels[:50], predictions[:50]):
            assert patient_utility(y, p) == pytest.approx(reference_patient_utility(y, p))
        assert normalized_utility(labels, predictions) == pytest.approx(reference_normalized(labels, predictions))


def test_curve_matches_pointwise_and_best_threshold():
    rng = np.random.default_rng(1)
    labels, scores = random_cohort(rng, 200)
    scores[0][0] = np.nan  # never alarms
    thresholds = np.linspace(0, 1.4, 15)
    curve = utility_curve(labels, scores, thresholds)
    pointwise = [normalized_utility(labels, [np.nan_to_num(s, nan=-np.inf) >= t for s in scores]) for t in thresholds]
    np.testing.assert_allclose(curve, pointwise, atol=1e-12)
    best = best_threshold(labels, scores, thresholds)
    assert best.utility == pytest.approx(curve.max())
    assert best.threshold == thresholds[int(np.argmax(curve))]
    default = best_threshold(labels, scores)
    assert default.utility >= best.utility - 1e-9


def test_bad_inputs_name_the_field():
    with pytest.raises(InvalidInput, match=r"predictions_per_patient\[0\]"):
        normalized_utility([[0, 1]], [[0, 1, 1]])
    with pytest.raises(InvalidInput, match="only 0 and 1"):
        patient_utility([0, 2], [0, 0])
    with pytest.raises(InvalidInput, match="no patient is septic"):
        normalized_utility([[0, 0]], [[0, 1]])
