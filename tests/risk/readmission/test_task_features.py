"""The patient-level split and the causal history features."""

import numpy as np

from medai.datasets.diabetes130 import parse_csv
from medai.risk.readmission.features import FEATURE_NAMES, HISTORY, NUMERIC, FeatureEncoder, raw_features
from medai.risk.readmission.task import excluded, split, subgroups

from .conftest import encounter, synthetic_rows, to_csv


def test_split_keeps_each_patient_on_one_side(synthetic_table):
    parts = split(synthetic_table)
    patients = synthetic_table["patient_nbr"]
    train, validation = set(patients[parts.train]), set(patients[parts.validation])
    assert train and validation and not train & validation
    assert not set(patients[parts.fit]) & set(patients[parts.early_stopping])
    assert not (parts.train & excluded(synthetic_table)).any() and not (parts.validation & excluded(synthetic_table)).any()
    assert 0.1 < parts.validation.sum() / (~excluded(synthetic_table)).sum() < 0.3


def test_split_does_not_depend_on_row_order(synthetic_table):
    order = np.random.default_rng(1).permutation(len(synthetic_table))
    shuffled = synthetic_table.take(order)
    assert set(order[split(shuffled).validation]) == set(np.flatnonzero(split(synthetic_table).validation))


def _history(table):
    raw = raw_features(table)
    return {name: raw.numeric[:, NUMERIC.index(name)] for name in HISTORY}


def test_history_counts_only_earlier_encounters_of_the_same_patient():
    rows = [encounter(30, 5, time_in_hospital=4, number_inpatient=0), encounter(10, 9, number_inpatient=2),
            encounter(50, 5, time_in_hospital=6, number_inpatient=3), encounter(40, 5, time_in_hospital=2, number_inpatient=1)]
    history = _history(parse_csv(to_csv(rows)))
    # row order in the file is 30, 10, 50, 40; patient 5's chronological order is 30 -> 40 -> 50
    assert history["previous_encounters"].tolist() == [0, 0, 2, 1]
    assert np.isnan(history["previous_time_in_hospital"][[0, 1]]).all()
    assert history["previous_time_in_hospital"][2] == 2 and history["previous_time_in_hospital"][3] == 4
    assert history["previous_days_total"].tolist() == [0, 0, 6, 4]
    assert history["inpatient_since_previous"][2] == 2 and history["inpatient_since_previous"][3] == 1


def test_history_never_looks_ahead(synthetic_table):
    """Changing or deleting a patient's later encounters leaves the features of earlier ones unchanged."""
    rows = synthetic_rows(40, seed=3)
    before = _history(parse_csv(to_csv(rows)))
    last_of = {}
    for i, row in enumerate(rows):
        last_of[row["patient_nbr"]] = i
    altered = [dict(row, time_in_hospital="14", number_inpatient="9", readmitted="<30") if i in last_of.values() else row
               for i, row in enumerate(rows)]
    after = _history(parse_csv(to_csv(altered)))
    keep = np.array([i not in set(last_of.values()) for i in range(len(rows))])
    for name in HISTORY:
        np.testing.assert_array_equal(before[name][keep], after[name][keep])
    truncated = _history(parse_csv(to_csv([row for i, row in enumerate(rows) if keep[i]])))
    for name in HISTORY:
        np.testing.assert_array_equal(before[name][keep], truncated[name])


def test_labels_do_not_change_features(synthetic_table):
    """Scoring does not read the outcome column: features are identical without it."""
    rows = synthetic_rows(30, seed=4)
    header = [c for c in to_csv(rows).splitlines()[0].split(",") if c != "readmitted"]
    with_labels, without = raw_features(parse_csv(to_csv(rows))), raw_features(parse_csv(to_csv(rows, header)))
    np.testing.assert_array_equal(with_labels.numeric, without.numeric)
    assert (with_labels.categorical == without.categorical).all()


def test_encoder_fits_on_training_rows_only(synthetic_table):
    parts = split(synthetic_table)
    raw, y = raw_features(synthetic_table), synthetic_table.readmitted_within_30_days()
    encoder = FeatureEncoder(min_count=5)
    fitted = encoder.fit_transform(raw.take(parts.fit), y[parts.fit])
    assert fitted.X.shape[1] == len(FEATURE_NAMES)
    # out-of-fold diagnosis risks differ from the in-sample ones the same encoder gives unseen rows
    in_sample = encoder.transform(raw.take(parts.fit)).continuous[:, len(NUMERIC)]
    assert not np.allclose(fitted.continuous[:, len(NUMERIC)], in_sample)
    np.testing.assert_array_equal(encoder.transform_training(raw.take(parts.fit), y[parts.fit]).X, fitted.X)
    restored = FeatureEncoder.from_dict(encoder.to_dict())
    np.testing.assert_array_equal(restored.transform(raw.take(parts.validation)).X, encoder.transform(raw.take(parts.validation)).X)


def test_subgroups_as_recorded(synthetic_table):
    groups = subgroups(synthetic_table)
    assert set(groups) == {"age band", "sex", "race"}
    assert set(groups["race"]) <= {"Caucasian", "AfricanAmerican", "unknown"}
    assert set(groups["age band"]) <= {"<50", "50-69", "70+"}
