"""LACE points and the Charlson ICD-9-CM map on hand-computed encounters."""

import numpy as np
import pytest

from medai.datasets.diabetes130 import parse_csv
from medai.risk.readmission.lace import charlson_map, encounter_lace, lace_score, lace_scores, normalise_icd9

from .conftest import encounter, to_csv


def test_hand_computed_high_risk_patient():
    # LOS 5 d -> L 4; emergency admission -> A 3; CHF (1) + diabetes with complications (2) + metastatic tumour (6)
    # = Charlson 9 -> C 5; 2 ED visits -> E 2. Total 14.
    table = parse_csv(to_csv([encounter(1, 1, time_in_hospital=5, admission_type_id=1, diag_1="428", diag_2="250.4",
                                        diag_3="197", number_emergency=2)]))
    score = encounter_lace(table, 0)
    assert (score.length_of_stay, score.acuity, score.comorbidity, score.emergency_visits) == (4, 3, 5, 2)
    assert score.charlson_index == 9 and score.total == 14
    assert "Congestive heart failure" in score.conditions and "Metastatic solid tumour" in score.conditions
    assert score.explain().summary == "LACE 14/19"


def test_hand_computed_low_risk_patient():
    # LOS 1 d -> 1; elective from a physician referral -> 0; bare "250" reads as diabetes without complication -> C 1;
    # no ED visits -> 0. Total 2.
    table = parse_csv(to_csv([encounter(1, 1, time_in_hospital=1, admission_type_id=3, admission_source_id=1,
                                        diag_1="250", diag_2="401", diag_3="V57", number_emergency=0)]))
    assert encounter_lace(table, 0).total == 2


@pytest.mark.parametrize(("los", "points"), [(1, 1), (3, 3), (4, 4), (6, 4), (7, 5), (13, 5), (14, 7)])
def test_length_of_stay_bands(los, points):
    assert lace_score(los, False, [], 0).length_of_stay == points


@pytest.mark.parametrize(("visits", "points"), [(0, 0), (3, 3), (4, 4), (11, 4)])
def test_emergency_visit_bands(visits, points):
    assert lace_score(1, False, [], visits).emergency_visits == points


def test_charlson_codes_and_hierarchy():
    charlson = charlson_map()
    assert normalise_icd9("38") == "038" and normalise_icd9("42") == "042" and normalise_icd9("V45.1") == "V45.1"
    assert charlson.match("38") == []  # septicaemia is not a Charlson condition
    assert charlson.match("42") == ["hiv_aids"]
    assert charlson.match("402.01") == ["congestive_heart_failure"] and charlson.match("402") == []
    assert charlson.match("195.8") == ["malignancy"] and charlson.match("195.9") == [] and charlson.match("173") == []
    assert charlson.index(["571.5", "456.0"]) == 3  # severe liver disease supersedes mild
    assert charlson.index(["174.9", "197.7"]) == 6  # metastases supersede the primary tumour
    assert charlson.index(["250.01", "250.6"]) == 2


def test_vectorised_scores_match_single_encounter(synthetic_table):
    scores = lace_scores(synthetic_table)
    assert scores.min() >= 0 and scores.max() <= 19
    for row in np.linspace(0, len(synthetic_table) - 1, 25).astype(int):
        assert scores[row] == encounter_lace(synthetic_table, int(row)).total
