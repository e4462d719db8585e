"""IWPC algorithms: a hand-computed patient, VKORC1 imputation, missing inputs, and the paper's figures."""

import numpy as np
import pytest

from medai.errors import InvalidInput
from medai.treatment.warfarin.iwpc import impute_vkorc1, iwpc_dose
from medai.treatment.warfarin.patient import WarfarinPatient, from_iwpc_row


def _patient(**overrides) -> WarfarinPatient:
    fields = dict(age_decade=6, height_cm=170, weight_kg=80, race="asian", vkorc1="A/G", cyp2c9="*1/*3",
                  amiodarone=True, enzyme_inducer=False)
    return WarfarinPatient(**{**fields, **overrides})


def test_pharmacogenetic_equation_by_hand():
    sqrt_dose = 5.6044 - 0.2614 * 6 + 0.0087 * 170 + 0.0128 * 80 - 0.8677 - 0.9357 - 0.1092 - 0.5503
    estimate = iwpc_dose(_patient())
    assert estimate.sqrt_dose == pytest.approx(4.0761, abs=1e-4) == pytest.approx(sqrt_dose)
    assert estimate.weekly_dose_mg == pytest.approx(16.6146, abs=1e-3)
    assert estimate.contributions["amiodarone"] == -0.5503 and "vkorc1_ag" in estimate.contributions


def test_clinical_equation_by_hand():
    estimate = iwpc_dose(_patient(), "clinical")
    assert estimate.sqrt_dose == pytest.approx(4.0376 - 0.2546 * 6 + 0.0118 * 170 + 0.0134 * 80 - 0.6752 - 0.5695)
    assert estimate.weekly_dose_mg == pytest.approx(4.3433**2, rel=1e-4)


def test_unknown_genotypes_use_the_unknown_terms():
    estimate = iwpc_dose(_patient(vkorc1=None, cyp2c9=None, race="unknown", amiodarone=None))
    assert estimate.contributions["vkorc1_unknown"] == -0.4854
    assert estimate.contributions["cyp2c9_unknown"] == -0.2188
    assert estimate.contributions["race_missing_or_mixed"] == -0.1032
    assert "amiodarone" not in estimate.contributions


def test_rare_cyp2c9_alleles_count_as_unknown_with_a_note():
    estimate = iwpc_dose(_patient(cyp2c9="*1/*11"))
    assert "cyp2c9_unknown" in estimate.contributions and "no IWPC term" in estimate.notes[0]


@pytest.mark.parametrize("race, proxies, expected", [
    ("white", {"vkorc1_2255": "T/T"}, "A/A"),
    ("asian", {"vkorc1_2255": "C/T"}, "A/G"),
    ("black", {"vkorc1_2255": "C/C"}, None),            # 2255 rule excludes Black or mixed race
    ("black", {"vkorc1_1173": "C/C"}, "G/G"),           # 1173 applies to every race
    ("unknown", {"vkorc1_1542": "C/C"}, None),          # 1542 rule excludes missing/mixed race
    ("white", {"vkorc1_1542": "C/G"}, "A/G"),
    ("white", {"vkorc1_2255": "C/C", "vkorc1_1173": "T/T"}, "G/G"),  # rs2359612 is tried first
])
def test_vkorc1_imputation_rules(race, proxies, expected):
    genotype, how = impute_vkorc1(WarfarinPatient(race=race, **proxies))
    assert genotype == expected
    assert (how or "").startswith("imputed") == (expected is not None)


def test_missing_body_size_is_an_error_naming_the_field():
    with pytest.raises(InvalidInput, match="height_cm"):
        iwpc_dose(_patient(height_cm=None))


def test_implausible_inputs_are_refused():
    with pytest.raises(InvalidInput, match="weight_kg"):
        WarfarinPatient.build(weight_kg=900)
    with pytest.raises(InvalidInput, match="cyp2c9"):
        WarfarinPatient.build(cyp2c9="star one")


def test_iwpc_row_reading():
    row = {"PharmGKB Subject ID": "PA9", "Age": "90+", "Height (cm)": "160", "Weight (kg)": "60", "Gender": "female",
           "Race": "Black or African American", "CYP2C9 consensus": "*3/*1", "VKORC1 -1639 consensus": None,
           "VKORC1 1173 consensus": "C/T", "Rifampin or Rifampicin": "1", "Amiodarone (Cordarone)": "0",
           "Indication for Warfarin Treatment": "3; 8"}
    patient = from_iwpc_row(row)
    assert patient.decade == 9 and patient.cyp2c9 == "*1/*3" and patient.enzyme_inducer and not patient.amiodarone
    assert patient.indications == ("atrial_fibrillation", "other")
    with pytest.raises(InvalidInput, match="PA9: Age"):
        from_iwpc_row({**row, "Age": "old"})


@pytest.mark.data
def test_reproduces_the_published_accuracy_on_the_iwpc_cohort(data_dir):
    """IWPC NEJM 2009 Table 3 (derivation + validation): PG ideal dose 35.0% (<=21), 32.8% (>=49); clinical 24.0%, 13.3%."""
    from medai.datasets import warfarin_iwpc as w

    pairs = []
    for row in w.with_dose(w.load(data_dir)):
        patient = from_iwpc_row(row)
        if None not in (patient.decade, patient.height_cm, patient.weight_kg):
            pairs.append((iwpc_dose(patient).weekly_dose_mg, iwpc_dose(patient, "clinical").weekly_dose_mg, w.stable_dose(row)))
    pg, clinical, actual = np.array(pairs).T
    ok_pg, ok_clinical = np.abs(pg - actual) <= 0.2 * actual, np.abs(clinical - actual) <= 0.2 * actual
    low, high = actual <= 21, actual >= 49
    assert 44 <= 100 * ok_pg.mean() <= 48 and 7.8 <= np.abs(pg - actual).mean() <= 8.8
    assert abs(100 * ok_pg[low].mean() - 35.0) < 3 and abs(100 * ok_pg[high].mean() - 32.8) < 4
    assert abs(100 * ok_clinical[low].mean() - 24.0) < 3 and abs(100 * ok_clinical[high].mean() - 13.3) < 4
