"""Renal recommendations and the adjusted FHIR R4 MedicationRequest."""

from datetime import date

import pytest

from medai.core.fhir.read import record_from_fhir
from medai.core.fhir.validate import validate_resource
from medai.core.records import Patient
from medai.errors import InvalidInput
from medai.treatment.renal import estimate, recommend


def _request(text: str, value: float, unit: str = "mg", period: float = 12, period_unit: str = "h", **extra) -> dict:
    return {"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": text},
            "dosageInstruction": [{"route": {"text": "oral"}, "timing": {"repeat": {"frequency": 1, "period": period, "periodUnit": period_unit}},
                                   "doseAndRate": [{"doseQuantity": {"value": value, "unit": unit}}]}], **extra}


SEVERE = estimate(2.5, 75, "female", 55)     # CrCl ~16, eGFR ~19
NORMAL = estimate(0.8, 40, "male", 80)


def test_adjusted_request_is_valid_r4_and_points_at_the_original():
    result = recommend(_request("dabigatran 150 MG Oral Capsule", 150), SEVERE)
    assert result.status == "adjust" and result.recommended_dose == "75 mg q12h"
    proposal = result.medication_request
    assert validate_resource(proposal) == "MedicationRequest"
    assert proposal["status"] == "draft" and proposal["intent"] == "proposal" and "id" not in proposal
    assert proposal["priorPrescription"] == {"reference": "MedicationRequest/mr1"}
    dosage = proposal["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 75 and dosage["route"] == {"text": "oral"}
    assert record_from_fhir({**proposal, "id": "new"}).dose_value == 75
    assert "PRADAXA" in proposal["note"][-1]["text"] and result.citations


def test_percentage_bands_scale_the_current_dose():
    result = recommend(_request("fluconazole 200 MG", 200, period=24), SEVERE)
    assert result.recommended_dose == "100 mg q24h"
    assert result.medication_request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 100


def test_dose_ranges_become_dose_range():
    result = recommend(_request("gabapentin 600 MG", 600, period=8), SEVERE)
    amount = result.medication_request["dosageInstruction"][0]["doseAndRate"][0]
    assert amount["doseRange"]["low"]["value"] == 200 and amount["doseRange"]["high"]["value"] == 700
    assert validate_resource(result.medication_request)


def test_normal_function_and_doses_already_within_limits_change_nothing():
    assert recommend(_request("dabigatran 150 MG", 150), NORMAL).status == "no-change"
    already = recommend(_request("dabigatran 75 MG", 75), SEVERE)
    assert already.status == "no-change" and already.medication_request is None and "within the renal limit" in already.message


def test_contraindicated_and_avoid_offer_no_dose():
    metformin = recommend(_request("metformin 1000 MG", 1000), SEVERE)
    assert metformin.status == "contraindicated" and metformin.medication_request is None
    assert "eGFR" in metformin.message and metformin.measure == "egfr"
    assert recommend(_request("nitrofurantoin 100 MG", 100), SEVERE).status == "avoid"


def test_unknown_drug_is_a_clear_error():
    with pytest.raises(InvalidInput, match="not in the renal dosing table"):
        recommend(_request("unobtainium 5 MG", 5), SEVERE)


def test_invalid_request_names_the_element():
    bad = _request("dabigatran", 150)
    del bad["status"]
    with pytest.raises(InvalidInput, match="status"):
        recommend(bad, SEVERE)


def test_no_creatinine_means_no_adjustment_and_says_so():
    result = recommend(_request("dabigatran 150 MG", 150), patient=Patient(id="p1", gender="male", birth_date=date(1950, 1, 1)),
                       observations=[])
    assert result.status == "not-assessed" and "no serum creatinine" in result.message
    assert result.medication_request is None


def test_crcl_drug_without_weight_is_not_assessed():
    result = recommend(_request("dabigatran 150 MG", 150), estimate(2.5, 75, "female"))
    assert result.status == "not-assessed" and "body weight" in result.message


def test_dialysis_is_out_of_scope():
    result = recommend(_request("dabigatran 150 MG", 150), SEVERE, on_dialysis=True)
    assert result.status == "not-assessed" and "dialysis" in result.message


def test_enoxaparin_regimen_from_the_current_dose():
    result = recommend(_request("enoxaparin 40 MG/0.4ML", 40, period=24), SEVERE)
    assert result.regimen_id == "enoxaparin-prophylaxis" and result.recommended_dose == "30 mg q24h"
