"""FHIR R4 <-> records: conversion, validation errors, units."""

import pytest

from medai.core import records
from medai.core.fhir import record_from_fhir, record_to_fhir, validate_resource
from medai.core.units import normalise
from medai.errors import InvalidInput
from tests.conftest import make_bundle


def test_every_resource_of_a_bundle_round_trips_through_records():
    for entry in make_bundle(patient_id="p1", hours=2)["entry"]:
        resource = entry["resource"]
        record = record_from_fhir(resource)
        written = record_to_fhir(record)
        validate_resource(written)
        assert record_from_fhir(written) == record


def test_observation_units_are_normalised_to_canonical_ucum():
    resource = make_bundle(hours=1)["entry"][3]["resource"]
    resource["code"]["coding"][0]["code"] = "8310-5"
    resource["valueQuantity"] = {"value": 101.3, "unit": "[degF]", "code": "[degF]", "system": "http://unitsofmeasure.org"}
    record = record_from_fhir(resource)
    assert record.unit == "Cel"
    assert record.value == pytest.approx(38.5, abs=0.01)


@pytest.mark.parametrize("code,value,unit,message", [
    ("8867-4", -5, "/min", "impossible"),
    ("8867-4", 80, "kg", "does not convert"),
    ("8310-5", float("nan"), "Cel", "finite"),
])
def test_impossible_values_and_unconvertible_units_are_rejected(code, value, unit, message):
    with pytest.raises(InvalidInput, match=message):
        normalise(code, value, unit)


def test_uncatalogued_codes_keep_their_units():
    assert normalise("2093-3", 180, "mg/dL").unit == "mg/dL"


def test_validation_names_the_invalid_element():
    bad = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueQuantity": {"value": "high"}}
    with pytest.raises(InvalidInput) as caught:
        validate_resource(bad)
    assert "valueQuantity" in str(caught.value)


def test_unknown_resource_type_is_named():
    with pytest.raises(InvalidInput, match="Spaceship"):
        validate_resource({"resourceType": "Spaceship"})


def test_document_reference_text_round_trips_base64():
    note = records.DocumentReference(id="d1", patient_id="p1", status="current", content_type="text/plain",
                                     text="Denies chest pain. Follow up in 2 weeks.")
    resource = record_to_fhir(note)
    validate_resource(resource)
    assert record_from_fhir(resource).text == note.text


def test_encounter_reason_references_round_trip():
    encounter = records.Encounter(id="e1", patient_id="p1", status="in-progress", class_code="IMP",
                                  reason_references=["Condition/c1"])
    resource = record_to_fhir(encounter)
    validate_resource(resource)
    assert resource["reasonReference"] == [{"reference": "Condition/c1"}]
    assert record_from_fhir(resource) == encounter
