"""INR titration nomogram: every band of the YAML at its edges, and refusals."""

import pytest

from medai.errors import InvalidInput
from medai.treatment.knowledge import KnowledgeError, parse_knowledge
from medai.treatment.warfarin.titration import Nomogram, nomogram, titrate

BANDS = nomogram().bands


@pytest.mark.parametrize("band", BANDS, ids=lambda b: f"{b.low}-{b.high}")
def test_each_band_applies_at_its_edges(band):
    edges = [v for v in (band.low, band.high) if v is not None] or [2.5]
    for inr in edges:
        step = titrate(35.0, inr)
        assert step.change_percent == band.change_percent and step.hold == band.hold
        assert step.new_weekly_dose_mg == pytest.approx(35.0 * (1 + band.change_percent / 100), abs=0.05)


def test_values_between_reported_decimals_round_like_the_lab():
    assert titrate(35, 1.94).change_percent == 10
    assert titrate(35, 1.96).change_percent == 0
    assert titrate(35, 3.04).change_percent == 0
    assert titrate(35, 3.06).change_percent == -10


def test_high_inr_holds_and_cites_the_source():
    step = titrate(40, 6.2)
    assert step.hold and step.new_weekly_dose_mg == 32.0 and "EBM Guidelines" in step.citation


def test_refusals_name_the_field():
    with pytest.raises(InvalidInput, match="inr"):
        titrate(35, 42)
    with pytest.raises(InvalidInput, match="current_weekly_dose_mg"):
        titrate(0, 2.5)
    with pytest.raises(InvalidInput, match="target_range"):
        titrate(35, 2.5, target_range=(2.5, 3.5))


def test_gapped_nomogram_is_rejected():
    text = """version: "x"
description: "d"
citation: {source: "src"}
target_range: [2.0, 3.0]
bands:
  - {low: null, high: 1.4, change_percent: 20, hold: false, text: a}
  - {low: 1.6, high: null, change_percent: 0, hold: false, text: b}
"""
    with pytest.raises(KnowledgeError, match="steps of 0.1"):
        parse_knowledge(text, Nomogram, "test.yaml")
