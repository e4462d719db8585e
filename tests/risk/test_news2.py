"""NEWS2 scoring on hand-worked cases from the RCP chart."""

import math

import pytest

from medai.risk.news2 import News2Scorer


@pytest.fixture(scope="module")
def scorer():
    return News2Scorer().fit()


@pytest.mark.parametrize("vitals,expected", [
    (dict(respiratory_rate=16, oxygen_saturation=97, systolic_bp=120, heart_rate=70, temperature=37.0), 0),
    (dict(respiratory_rate=22, oxygen_saturation=95, systolic_bp=105, heart_rate=95, temperature=38.5), 2 + 1 + 1 + 1 + 1),
    (dict(respiratory_rate=26, oxygen_saturation=90, systolic_bp=88, heart_rate=135, temperature=39.5), 3 + 3 + 3 + 3 + 2),
    (dict(respiratory_rate=8, oxygen_saturation=92, systolic_bp=220, heart_rate=40, temperature=35.0), 3 + 2 + 3 + 3 + 3),
    (dict(respiratory_rate=9, oxygen_saturation=94, systolic_bp=101, heart_rate=41, temperature=36.1), 1 + 1 + 1 + 1 + 0),
])
def test_aggregate_scores(scorer, vitals, expected):
    assert scorer.score(vitals) == expected


def test_too_few_parameters_give_nan(scorer):
    assert math.isnan(scorer.score({"heart_rate": 120, "temperature": 39}))


def test_single_red_parameter_escalates_response(scorer):
    vitals = dict(respiratory_rate=16, oxygen_saturation=97, systolic_bp=120, heart_rate=70, temperature=34.5)
    assert scorer.score(vitals) == 3
    assert scorer.response(vitals).risk == "low-medium"


def test_explanation_lists_points_and_assumptions(scorer):
    vitals = dict(respiratory_rate=26, oxygen_saturation=97, systolic_bp=120, heart_rate=70, temperature=None)
    explanation = scorer.explain(vitals)
    assert explanation.contributions[0].feature == "Respiratory rate" and explanation.contributions[0].contribution == 3
    assert any("Temperature" in c for c in explanation.caveats)
    assert any("Alert" in c for c in explanation.caveats)
