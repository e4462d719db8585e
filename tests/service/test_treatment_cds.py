"""CDS Hooks order-select / order-sign: discovery, renal update suggestions, interactions, warfarin doses, clear
messages for missing labs and unknown drugs, prefetch or store, audit, roles."""

from __future__ import annotations

import uuid

import pytest

from medai.store.ingest import ingest_bundle
from tests.treatment import order_fixtures as f
from tests.treatment.test_cards import check_card

SELECT, SIGN = "/cds-services/medai-order-select", "/cds-services/medai-order-sign"


def hook(name: str, patient_id: str, orders: list[dict], prefetch: dict | None = None, selections: list[str] | None = None) -> dict:
    context = {"userId": "Practitioner/1", "patientId": patient_id, "draftOrders": f.searchset(orders)}
    if selections is not None:
        context["selections"] = selections
    body = {"hook": name, "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


@pytest.fixture
def renal_patient(service) -> str:
    """A stored 80-year-old woman with creatinine 2.5 mg/dL (eGFR ~19), on lisinopril."""
    resources = f.renal_patient()
    with service.client.app.state.engine.begin() as connection:
        ingest_bundle(connection, f.transaction(resources))
    return resources[0]["id"]


def cards_for(service, url: str, body: dict, role: str = "clinician") -> list[dict]:
    response = service.client.post(url, json=body, headers=service.headers(role))
    assert response.status_code == 200, response.text
    found = response.json()["cards"]
    for card in found:
        check_card(card)
    return found


def test_discovery_lists_both_services_with_prefetch(service):
    services = {s["id"]: s for s in service.client.get("/cds-services").json()["services"]}
    assert services["medai-order-select"]["hook"] == "order-select" and services["medai-order-sign"]["hook"] == "order-sign"
    prefetch = services["medai-order-sign"]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert "2160-0" in prefetch["observations"] and "6301-6" in prefetch["observations"] and "4092-3" in prefetch["observations"]
    assert prefetch["medications"] == "MedicationRequest?patient={{context.patientId}}&status=active"


def test_full_dose_for_low_egfr_gets_an_update_with_the_adjusted_dose(service, renal_patient):
    draft = f.order(renal_patient, "dabigatran 150 MG Oral Capsule", 150, oid="draft-1")
    found = cards_for(service, SELECT, hook("order-select", renal_patient, [draft], selections=["MedicationRequest/draft-1"]))
    renal = next(c for c in found if c["source"]["label"] == "medai treatment: renal")
    assert renal["indicator"] == "warning" and "75 mg q12h" in renal["summary"]
    action = renal["suggestions"][0]["actions"][0]
    assert action["type"] == "update" and action["resource"]["id"] == "draft-1"
    assert action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 75
    assert renal["overrideReasons"] and renal["links"][0]["url"].endswith(f"/ui/treatment?patient={renal_patient}")
    audit = service.client.get("/api/audit", headers=service.headers("admin")).json()
    assert any(r["action"] == "cds:medai-order-select" and r["patient_id"] == renal_patient for r in audit)


def test_prefetch_is_used_when_the_patient_is_not_stored(service):
    resources = f.renal_patient()
    pid = resources[0]["id"]
    by_type = lambda t: f.searchset([r for r in resources if r["resourceType"] == t])  # noqa: E731
    prefetch = {"patient": resources[0], "observations": by_type("Observation"), "medications": by_type("MedicationRequest"),
                "conditions": f.searchset([]), "administrations": f.searchset([])}
    found = cards_for(service, SIGN, hook("order-sign", pid, [f.order(pid, "dabigatran 150 MG", 150)], prefetch))
    assert any("75 mg q12h" in c["summary"] for c in found)


def test_ace_inhibitor_plus_arb_is_an_interaction_card(service):
    found = cards_for(service, SIGN, hook("order-sign", service.well_patient,
                                          [f.order(service.well_patient, "losartan 50 MG Oral Tablet", 50, period=24)]))
    card = next(c for c in found if c["source"]["label"] == "medai treatment: interaction")
    assert card["indicator"] == "warning" and "lisinopril + losartan" in card["summary"]
    assert "Do not combine an ACE inhibitor with an ARB" in card["detail"] and "ACC/AHA" in card["detail"]


def test_warfarin_order_gets_a_dose_card_and_the_prediction_is_recorded(service, renal_patient):
    found = cards_for(service, SIGN, hook("order-sign", renal_patient,
                                          [f.order(renal_patient, "warfarin 5 MG Oral Tablet", 5, period=24, oid="w1")]))
    card = next(c for c in found if c["source"]["label"] == "medai treatment: warfarin")
    assert card["summary"].startswith("Warfarin: predicted") and "interval" in card["summary"]
    assert card["suggestions"][0]["actions"][0]["type"] == "update" and "CPIC" in card["detail"]
    audit = service.client.get("/api/audit", headers=service.headers("admin")).json()
    record = next(r for r in audit if r["action"] == "cds:medai-order-sign" and r["model_id"] == "warfarin-dose")
    assert record["patient_id"] == renal_patient and record["model_version"]


def test_missing_creatinine_is_an_info_card_saying_so(service):
    found = cards_for(service, SIGN, hook("order-sign", service.well_patient,
                                          [f.order(service.well_patient, "dabigatran 150 MG", 150)]))
    card = next(c for c in found if c["source"]["label"] == "medai treatment: renal")
    assert card["indicator"] == "info" and "suggestions" not in card
    assert card["summary"] == "No renal adjustment for dabigatran: no creatinine in the last 90 days"


def test_unknown_drug_is_a_clear_message_not_a_default_dose(service, renal_patient):
    [card] = cards_for(service, SIGN, hook("order-sign", renal_patient, [f.order(renal_patient, "zorblaxin 20 MG", 20)]))
    assert card["indicator"] == "warning" and "does not recognise 'zorblaxin 20 MG'" in card["summary"]
    assert "suggestions" not in card and "no dose is proposed" in card["detail"]


def test_the_patient_role_is_refused(service):
    response = service.client.post(SIGN, json=hook("order-sign", service.well_patient, [f.order(service.well_patient, "losartan 50 MG", 50)]),
                                   headers=service.headers("patient"))
    assert response.status_code == 403


def test_bad_hook_requests(service, renal_patient):
    body = hook("order-sign", renal_patient, [])
    del body["context"]["draftOrders"]
    response = service.client.post(SIGN, json=body, headers=service.headers("clinician"))
    assert response.status_code == 400 and "draftOrders" in response.text
    body["context"]["draftOrders"] = {"resourceType": "MedicationRequest"}
    response = service.client.post(SIGN, json=body, headers=service.headers("clinician"))
    assert response.status_code == 422 and "expected a FHIR Bundle" in response.text
    invalid = f.order(renal_patient, "dabigatran 150 MG", 150)
    del invalid["intent"]
    [card] = cards_for(service, SIGN, hook("order-sign", renal_patient, [invalid]))
    assert card["indicator"] == "warning" and "intent" in card["summary"]


def test_override_feedback_is_accepted(service, renal_patient):
    [card] = [c for c in cards_for(service, SIGN, hook("order-sign", renal_patient, [f.order(renal_patient, "metformin 1000 MG", 1000)]))
              if c["indicator"] == "critical"]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2025-01-01T00:00:00Z",
                              "overrideReason": {"reason": card["overrideReasons"][1], "userComment": "palliative"}}]}
    response = service.client.post(f"{SIGN}/feedback", json=feedback, headers=service.headers("clinician"))
    assert response.status_code == 200 and response.json() == {"received": 1}
