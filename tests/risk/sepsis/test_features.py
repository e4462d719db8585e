"""Causal features: streaming equals batch, the future never leaks into the past."""

import numpy as np

from medai.risk.sepsis.features import FEATURE_NAMES, FeatureState, stay_features


def test_stream_equals_batch(synthetic_stays):
    stay = synthetic_stays[0]
    batch = stay_features(stay.values)
    state = FeatureState()
    streamed = np.vstack([state.update(row) for row in stay.values])
    np.testing.assert_array_equal(np.nan_to_num(batch, nan=-999), np.nan_to_num(streamed, nan=-999))
    assert batch.shape == (len(stay.values), len(FEATURE_NAMES))


def test_features_are_causal(synthetic_stays):
    values = synthetic_stays[3].values.copy()
    before = stay_features(values)
    values[20:] = values[20:] * 1.7 + 3  # change the future
    after = stay_features(values)
    np.testing.assert_array_equal(np.nan_to_num(before[:20], nan=-1), np.nan_to_num(after[:20], nan=-1))
    assert not np.allclose(np.nan_to_num(before[20:], nan=-1), np.nan_to_num(after[20:], nan=-1))


def test_values_carry_forward_and_changes_are_tracked():
    state = FeatureState()
    row = np.full(40, np.nan)
    lactate = FEATURE_NAMES.index("Lactate")
    change = FEATURE_NAMES.index("Lactate__change_since_previous")
    since = FEATURE_NAMES.index("Lactate__hours_since")
    first = row.copy(); first[22] = 1.8
    state.update(first)
    for _ in range(5):
        state.update(row)
    later = row.copy(); later[22] = 4.1
    features = state.update(later)
    assert features[lactate] == 4.1 and np.isclose(features[change], 2.3) and features[since] == 0
    assert state.update(row)[since] == 1


def test_copy_is_independent():
    state = FeatureState()
    row = np.full(40, 80.0)
    state.update(row)
    clone = state.copy()
    clone.update(row * 2)
    assert state.hours == 1 and clone.hours == 2 and state.last[0] == 80
