"""CDS Hooks 2.0: discovery, patient-view cards (stored and audited predictions), JWT auth, feedback."""

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from medai.core.fhir import validate_resource
from medai.store.accounts import add_cds_client

SERVICE_URL = "http://testserver/cds-services/news2-deterioration"


def _hook(patient_id, prefetch=None):
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"userId": "Practitioner/1", "patientId": patient_id}}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def test_discovery_lists_services_with_prefetch(service):
    services = service.client.get("/cds-services").json()["services"]
    news2 = next(s for s in services if s["id"] == "news2-deterioration")
    assert news2["hook"] == "patient-view" and "{{context.patientId}}" in news2["prefetch"]["vitals"]


def _check_card(card):
    assert set(card) >= {"uuid", "summary", "indicator", "source"}
    assert card["indicator"] in {"info", "warning", "critical"}
    assert len(card["summary"]) <= 140 and card["source"]["label"]
    for suggestion in card.get("suggestions", []):
        for action in suggestion["actions"]:
            validate_resource(action["resource"])


def test_patient_view_returns_valid_cards_and_audits_the_prediction(service):
    response = service.client.post("/cds-services/news2-deterioration", json=_hook(service.sick_patient), headers=service.headers("clinician"))
    assert response.status_code == 200, response.text
    card = response.json()["cards"][0]
    _check_card(card)
    assert card["indicator"] == "critical" and card["summary"].startswith("NEWS2 13")
    assert card["suggestions"][0]["actions"][0]["resource"]["resourceType"] == "RiskAssessment"
    audit = service.client.get("/api/audit", headers=service.headers("admin")).json()
    record = next(r for r in audit if r["action"] == "cds:news2-deterioration")
    assert record["model_id"] == "news2" and len(record["weights_sha256"]) == 64 and record["patient_id"] == service.sick_patient


def test_prefetched_vitals_are_used(service):
    from tests.conftest import make_bundle

    observations = [e for e in make_bundle(sick=False, hours=1)["entry"] if e["resource"]["resourceType"] == "Observation"]
    prefetch = {"vitals": {"resourceType": "Bundle", "type": "searchset", "entry": observations}}
    card = service.client.post("/cds-services/news2-deterioration", json=_hook(service.sick_patient, prefetch),
                               headers=service.headers("clinician")).json()["cards"][0]
    assert card["summary"].startswith("NEWS2 0") and card["indicator"] == "info"


def test_malformed_hook_request(service):
    response = service.client.post("/cds-services/news2-deterioration", json={"hook": "patient-view"}, headers=service.headers("clinician"))
    assert response.status_code == 400 and "hookInstance" in response.text
    assert service.client.post("/cds-services/nope", json=_hook("x"), headers=service.headers("clinician")).status_code == 404


@pytest.fixture
def ehr_key(service):
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with service.client.app.state.engine.begin() as connection:
        add_cds_client(connection, "https://ehr.example.org", pem)
    return key


def _jwt(key, audience=SERVICE_URL, issuer="https://ehr.example.org", **claims):
    now = int(time.time())
    payload = {"iss": issuer, "sub": "ehr-client", "aud": audience, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())} | claims
    return jwt.encode(payload, key, algorithm="ES384", headers={"kid": "test"})


def test_ehr_jwt_is_accepted_once(service, ehr_key):
    token = _jwt(ehr_key)
    headers = {"Authorization": f"Bearer {token}"}
    assert service.client.post("/cds-services/news2-deterioration", json=_hook(service.sick_patient), headers=headers).status_code == 200
    replay = service.client.post("/cds-services/news2-deterioration", json=_hook(service.sick_patient), headers=headers)
    assert replay.status_code == 401 and "replayed" in replay.text


@pytest.mark.parametrize("change,fragment", [
    ({"audience": "http://elsewhere/cds-services/x"}, "audience"),
    ({"exp": 1}, "expired"),
    ({"issuer": "https://unknown.example.org"}, "not a registered"),
])
def test_bad_ehr_jwts_are_401(service, ehr_key, change, fragment):
    token = _jwt(ehr_key, **change)
    response = service.client.post("/cds-services/news2-deterioration", json=_hook(service.sick_patient),
                                   headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and fragment in response.text.lower()


def test_jwt_signed_by_another_key_is_401(service, ehr_key):
    token = _jwt(ec.generate_private_key(ec.SECP384R1()))
    response = service.client.post("/cds-services/news2-deterioration", json=_hook(service.sick_patient),
                                   headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "signature" in response.text.lower()


def test_feedback_is_recorded(service):
    card = service.client.post("/cds-services/news2-deterioration", json=_hook(service.sick_patient), headers=service.headers("clinician")).json()["cards"][0]
    body = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "overrideReasons": [{"reason": {"code": "not-relevant"}}],
                          "outcomeTimestamp": "2026-11-30T10:00:00Z"}]}
    assert service.client.post("/cds-services/news2-deterioration/feedback", json=body, headers=service.headers("clinician")).json() == {"received": 1}
    bad = service.client.post("/cds-services/news2-deterioration/feedback", json={"feedback": [{"card": "x", "outcome": "maybe"}]},
                              headers=service.headers("clinician"))
    assert bad.status_code == 400


def test_news2_endpoint_returns_explained_prediction(service):
    prediction = service.client.get(f"/api/risk/patients/{service.sick_patient}/news2", headers=service.headers("clinician")).json()
    assert prediction["value"] == 13 and prediction["model"]["model_id"] == "news2"
    assert prediction["explanation"]["contributions"][0]["contribution"] == 3
