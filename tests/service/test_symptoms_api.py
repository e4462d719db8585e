"""POST /api/v1/symptoms/assess: roles, the same JSON as the CLI, a stored prediction with its audit record, 422s."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from medai.assistant.symptoms import assess
from medai.service.routers.symptoms import API_PREFIX

URL = f"{API_PREFIX}/assess"


@pytest.fixture
def client(service) -> TestClient:
    """The test service's client."""
    return service.client


def test_patient_gets_the_cli_json_and_an_audit_record(service, client):
    body = {"text": "Crushing chest pain spreading to my left arm and sweating", "age": 61, "sex": "male", "semantic": False}
    response = client.post(URL, json=body, headers=service.headers("patient"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["triage"] == "emergency" and result["differential"][0]["id"] == "myocardial_infarction"
    expected = assess(body["text"], 61, "male", semantic=False).to_dict()
    assert {k: result[k] for k in expected} == expected
    audit = client.get("/api/audit", headers=service.headers("admin")).json()
    record = [r for r in audit if r["action"] == "predict:symptoms"]
    assert record and record[-1]["model_id"] == "symptom-checker"
    assert body["text"] not in str(record[-1])


def test_clinician_allowed_service_refused(service, client):
    body = {"text": "sore throat and fever", "semantic": False}
    assert client.post(URL, json=body, headers=service.headers("clinician")).status_code == 200
    assert client.post(URL, json=body, headers=service.headers("service")).status_code == 403
    assert client.post(URL, json=body).status_code == 401


@pytest.mark.parametrize("body, field", [({"text": "cough", "sex": "other"}, "sex"), ({"text": "cough", "age": -3}, "age"),
                                         ({"age": 30}, "text"), ({"text": "cough", "colour": "red"}, "colour")])
def test_bad_input_is_422_naming_the_field(service, client, body, field):
    response = client.post(URL, json=body, headers=service.headers("patient"))
    assert response.status_code == 422 and field in response.text
