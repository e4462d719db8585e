"""CPIC 2017 warfarin interpretation: CYP2C9 activity scores, label dose table, ancestry-specific advice."""

import pytest

from medai.treatment.warfarin.cpic import cyp2c9_activity, interpret, label_range
from medai.treatment.warfarin.patient import WarfarinPatient


@pytest.mark.parametrize("diplotype, score, phenotype", [
    ("*1/*1", 2.0, "normal metabolizer"), ("*1/*2", 1.5, "intermediate metabolizer"),
    ("*1/*3", 1.0, "intermediate metabolizer"), ("*2/*3", 0.5, "poor metabolizer"),
    ("*3/*3", 0.0, "poor metabolizer"), ("*1/*11", 1.5, "intermediate metabolizer"), ("*1/*99", None, None),
])
def test_cyp2c9_activity_score(diplotype, score, phenotype):
    assert cyp2c9_activity(diplotype) == (score, phenotype)


def test_label_table_corners():
    assert label_range("G/G", "*1/*1") == (5, 7)
    assert label_range("A/A", "*3/*3") == (0.5, 2)
    assert label_range("A/G", "*2/*3") == (0.5, 2)
    assert label_range("A/A", "*1/*2") == (3, 4)
    assert label_range(None, "*1/*1") is None


def test_non_african_cyp4f2_carrier_gets_an_increase():
    result = interpret(WarfarinPatient(race="white", vkorc1="A/G", cyp2c9="*1/*1", cyp4f2="C/T"))
    assert result.adjustment_percent == (5, 10) and not result.dose_clinically
    assert "increased warfarin sensitivity" in result.vkorc1_sensitivity
    assert any("CYP4F2" in line for line in result.recommendations)


def test_african_ancestry_untested_variants_means_dose_clinically():
    result = interpret(WarfarinPatient(race="black", vkorc1="G/G", cyp2c9="*1/*1"))
    assert result.dose_clinically and result.adjustment_percent == (0, 0)


def test_african_ancestry_carrier_and_rs12777823_reductions_add_up():
    result = interpret(WarfarinPatient(race="black", vkorc1="G/G", cyp2c9="*1/*5", rs12777823="A/G", cyp4f2="T/T"))
    assert not result.dose_clinically
    assert result.adjustment_percent == (-55, -25)
    assert any("not used for patients of African ancestry" in line for line in result.recommendations)


def test_poor_metabolizer_triggers_consider_alternative():
    assert interpret(WarfarinPatient(race="asian", vkorc1="A/A", cyp2c9="*3/*3")).consider_alternative
    assert not interpret(WarfarinPatient(race="asian", vkorc1="A/A", cyp2c9="*1/*3")).consider_alternative
