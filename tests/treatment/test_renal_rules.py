"""The renal rule table: every regimen's bands at every boundary (generated from the YAML), and the schema."""

import math

import pytest

from medai.errors import InvalidInput
from medai.treatment.knowledge import KnowledgeError, parse_knowledge
from medai.treatment.renal.rules import Dose, RenalRules, choose_regimen, rules

REGIMENS = rules().regimens
EDGES = [(r, b) for r in REGIMENS for b in r.bands if b.upper[0] != math.inf]


def test_at_least_forty_drugs_each_with_a_citation():
    assert len({r.drug for r in REGIMENS}) >= 40
    assert all(r.citations and r.citations[0].source for r in REGIMENS)


@pytest.mark.parametrize("regimen, band", EDGES, ids=[f"{r.id}@{b.upper[0]:g}" for r, b in EDGES])
def test_boundary_falls_where_the_label_says(regimen, band):
    edge, inclusive = band.upper
    above = next(b for b in regimen.bands if b.lower[0] == edge)
    assert regimen.band_for(edge - 0.01) is band
    assert regimen.band_for(edge + 0.01) is above
    assert regimen.band_for(edge) is (band if inclusive else above)


@pytest.mark.parametrize("regimen", REGIMENS, ids=[r.id for r in REGIMENS])
def test_bands_cover_every_value_and_adjusted_doses_are_lower(regimen):
    for value in (0.0, 1.0, 250.0, 1000.0):
        assert regimen.band_for(value) in regimen.bands
    for band in regimen.bands:
        if band.action == "adjust" and band.dose.percent is None and band.dose.unit == regimen.usual.unit:
            assert band.dose.high * band.dose.per_day() <= regimen.usual.high * regimen.usual.per_day() + 1e-9, band.dose.text


@pytest.mark.parametrize("text, expected", [
    ("75 mg q12h", dict(low=75, high=75, unit="mg", frequency=1, period=12, period_unit="h")),
    ("200-700 mg q24h", dict(low=200, high=700, unit="mg", period=24)),
    ("15-25 mg/kg 3x/wk", dict(low=15, unit="mg/kg", frequency=3, period=1, period_unit="wk")),
    ("50% q12h", dict(percent=50, period=12)),
    ("25%", dict(percent=25, period=None)),
])
def test_dose_strings(text, expected):
    dose = Dose.parse(text)
    assert {k: getattr(dose, k) for k in expected} == expected


@pytest.mark.parametrize("text", ["75 mg", "seventy mg q12h", "75 mg every 12 hours"])
def test_bad_dose_strings(text):
    with pytest.raises(ValueError):
        Dose.parse(text)


def _table(bands: str) -> str:
    return f"""version: "t"
description: "d"
regimens:
  - id: x
    drug: x
    match: [x]
    indication: x
    measure: crcl
    usual: "10 mg q24h"
    citations: [{{source: "label"}}]
    bands:
{bands}"""


@pytest.mark.parametrize("bands, message", [
    ("      - {ge: 30, action: usual}\n      - {lt: 20, action: avoid}\n", "gap or overlap"),
    ("      - {ge: 30, action: usual}\n      - {le: 30, action: avoid}\n", "gap or overlap"),
    ("      - {ge: 30, action: usual}\n      - {lt: 30, action: adjust}\n", "dose is required"),
    ("      - {ge: 30, lt: 60, action: usual}\n      - {lt: 30, action: avoid}\n", "open above"),
])
def test_schema_rejects_broken_tables(bands, message):
    with pytest.raises(KnowledgeError, match=message):
        parse_knowledge(_table(bands), RenalRules, "renal.yaml")


def test_regimen_choice():
    assert choose_regimen("Metformin hydrochloride 500 MG Oral Tablet").id == "metformin"
    assert choose_regimen("enoxaparin", Dose.parse("40 mg q24h")).id == "enoxaparin-prophylaxis"
    with pytest.raises(InvalidInput, match="several regimens"):
        choose_regimen("enoxaparin sodium 100 MG/ML")
    with pytest.raises(InvalidInput, match="not in the renal dosing table"):
        choose_regimen("unobtainium 5 MG")
    with pytest.raises(InvalidInput, match="unknown regimen"):
        choose_regimen("x", regimen_id="nope")
