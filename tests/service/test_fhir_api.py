"""FHIR endpoints: transactions, reads, searches, streamed Observations and bad input."""

from datetime import datetime, timezone

import pytest

from tests.conftest import make_bundle, vital


def test_post_bundle_then_read_and_search(service):
    bundle = make_bundle(patient_id="api-patient", hours=2)
    response = service.client.post("/fhir", json=bundle, headers=service.headers("clinician"))
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "transaction-response" and len(response.json()["entry"]) == 13
    patient = service.client.get("/fhir/Patient/api-patient", headers=service.headers("clinician")).json()
    assert patient["name"][0]["family"] == "Testperson"
    hr = service.client.get("/fhir/Observation?patient=api-patient&code=8867-4", headers=service.headers("clinician")).json()
    assert hr["total"] == 2 and hr["entry"][0]["resource"]["valueQuantity"]["value"] == 72
    conditions = service.client.get("/fhir/Condition?patient=api-patient", headers=service.headers("clinician")).json()
    assert conditions["total"] == 1


def test_streamed_observation_is_stored(service):
    obs = vital(f"Patient/{service.well_patient}", "8867-4", 88, "/min", datetime.now(timezone.utc))
    response = service.client.post("/fhir/Observation", json=obs, headers=service.headers("service"))
    assert response.status_code == 201, response.text
    assert response.json()["meta"]["versionId"] == "1"


def _obs(service, **changes):
    obs = vital(f"Patient/{service.well_patient}", "8867-4", 88, "/min", datetime.now(timezone.utc))
    obs["valueQuantity"].update(changes)
    return obs


@pytest.mark.parametrize("case,status,fragment", [
    ("malformed", 400, "malformed JSON"),
    ("content-type", 415, "content type"),
    ("oversized", 413, "exceeds the limit"),
    ("wrong-type", 422, "expected an Observation"),
    ("unknown-code", 422, "unknown code"),
    ("negative-hr", 422, "impossible"),
    ("bad-unit", 422, "does not convert"),
    ("bad-reference", 422, "does not resolve"),
])
def test_bad_input_gets_an_operation_outcome_and_nothing_is_written(service, case, status, fragment):
    headers = service.headers("clinician")
    before = service.client.get(f"/fhir/Observation?patient={service.well_patient}", headers=headers).json()["total"]
    kwargs = {"headers": headers}
    if case == "malformed":
        kwargs["content"] = b'{"resourceType": "Observation",'
    elif case == "content-type":
        kwargs.update(content=b"{}", headers=service.headers("clinician", "text/plain"))
    elif case == "oversized":
        kwargs["content"] = b'{"x": "' + b"a" * 2_100_000 + b'"}'
    elif case == "wrong-type":
        kwargs["json"] = {"resourceType": "Patient"}
    elif case == "unknown-code":
        obs = _obs(service)
        obs["code"]["coding"][0]["code"] = "99999-9"
        kwargs["json"] = obs
    elif case == "negative-hr":
        kwargs["json"] = _obs(service, value=-20)
    elif case == "bad-unit":
        kwargs["json"] = _obs(service, code="mg", unit="mg")
    elif case == "bad-reference":
        obs = _obs(service)
        obs["subject"] = {"reference": "Patient/does-not-exist"}
        kwargs["json"] = obs
    response = service.client.post("/fhir/Observation", **kwargs)
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert fragment in " ".join(issue["diagnostics"] for issue in outcome["issue"])
    after = service.client.get(f"/fhir/Observation?patient={service.well_patient}", headers=headers).json()["total"]
    assert after == before
    assert service.client.get("/health").status_code == 200


def test_bad_bundle_is_rejected_whole(service):
    bundle = make_bundle(patient_id="half-written", hours=3)
    bundle["entry"][-1]["resource"]["valueQuantity"]["value"] = 900
    response = service.client.post("/fhir", json=bundle, headers=service.headers("clinician"))
    assert response.status_code == 422
    assert "Bundle.entry[17]" in response.json()["issue"][0]["expression"][0]
    assert service.client.get("/fhir/Patient/half-written", headers=service.headers("clinician")).status_code == 404


def test_reads_are_audited(service):
    service.client.get(f"/fhir/Patient/{service.well_patient}", headers=service.headers("clinician"))
    audit = service.client.get("/api/audit", headers=service.headers("admin")).json()
    assert any(r["action"] == "read:Patient" and r["patient_id"] == service.well_patient and r["actor"] == "clinician" for r in audit)
    assert service.client.get("/api/audit/verify", headers=service.headers("admin")).json()["ok"]


def test_health_metrics_and_capability_statement(service):
    assert service.client.get("/health").json()["status"] == "ok"
    assert service.client.get("/fhir/metadata").json()["fhirVersion"] == "4.0.1"
    service.client.get(f"/fhir/Patient/{service.well_patient}", headers=service.headers("clinician"))
    metrics = service.client.get("/metrics").text
    assert 'route="/fhir/{resource_type}/{resource_id}"' in metrics
    assert service.well_patient not in metrics


def _crisis_alerts(service) -> dict[str, str]:
    """Crisis alerts as the assistant stores them: for the well patient an active and an inactive Flag and a
    Communication about the active one; for the sick patient an active Flag. Returns their ids."""
    from medai.assistant.safety.response import clinician_communication, clinician_flag
    from medai.assistant.safety.types import ScreenResult

    result = ScreenResult("high", ("suicide_self_harm",))
    active, resolved = clinician_flag(result, service.well_patient), clinician_flag(result, service.well_patient)
    resolved["status"] = "inactive"
    message = clinician_communication(result, active, service.well_patient)
    other = clinician_flag(result, service.sick_patient)
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
                        for r in (active, resolved, message, other)]}
    assert service.client.post("/fhir", json=bundle, headers=service.headers("clinician")).status_code == 200
    return {"active": active["id"], "resolved": resolved["id"], "message": message["id"], "other": other["id"]}


def _ids(bundle: dict) -> set[str]:
    return {e["resource"]["id"] for e in bundle["entry"]}


def test_crisis_flags_and_communications_are_served_by_patient_and_status(service):
    ids = _crisis_alerts(service)
    client, clinician = service.client, service.headers("clinician")
    flags = client.get(f"/fhir/Flag?patient={service.well_patient}", headers=clinician)
    assert flags.status_code == 200 and flags.headers["content-type"].startswith("application/fhir+json")
    assert _ids(flags.json()) == {ids["active"], ids["resolved"]}
    active = client.get(f"/fhir/Flag?patient={service.well_patient}&status=active", headers=clinician).json()
    assert _ids(active) == {ids["active"]} and active["entry"][0]["resource"]["code"]["coding"][0]["code"] == "225444004"
    assert _ids(client.get(f"/fhir/Flag?patient={service.well_patient}&status=inactive&_count=1", headers=clinician).json()) \
        == {ids["resolved"]}
    sent = client.get(f"/fhir/Communication?patient={service.well_patient}", headers=clinician).json()
    assert _ids(sent) == {ids["message"]} and sent["entry"][0]["resource"]["about"][0]["reference"] == f"Flag/{ids['active']}"
    assert client.get(f"/fhir/Flag/{ids['other']}", headers=clinician).json()["subject"]["reference"] \
        == f"Patient/{service.sick_patient}"
    assert client.get(f"/fhir/Communication/{ids['message']}", headers=service.headers("service")).status_code == 200
    assert client.get("/fhir/Flag?status=bogus&patient=x", headers=clinician).status_code == 400
    assert client.get("/fhir/Communication", headers=clinician).status_code == 400  # a patient is required
    assert client.get("/fhir/Flag/no-such-flag", headers=clinician).status_code == 404
    capability = {r["type"]: r for r in client.get("/fhir/metadata").json()["rest"][0]["resource"]}
    assert {p["name"] for p in capability["Flag"]["searchParam"]} == {"patient", "status"} and "Communication" in capability


def test_patients_see_only_their_own_alerts_and_every_access_is_audited(service):
    ids = _crisis_alerts(service)
    client, patient = service.client, service.headers("patient")
    assert _ids(client.get("/fhir/Flag", headers=patient).json()) == {ids["active"], ids["resolved"]}
    assert client.get(f"/fhir/Flag/{ids['active']}", headers=patient).status_code == 200
    assert client.get(f"/fhir/Flag?patient={service.sick_patient}", headers=patient).status_code == 403
    assert client.get(f"/fhir/Flag/{ids['other']}", headers=patient).status_code == 403
    assert client.get(f"/fhir/Communication?patient={service.sick_patient}", headers=patient).status_code == 403
    assert client.get("/fhir/Flag", headers={}).status_code == 401
    audit = client.get("/api/audit", headers=service.headers("admin")).json()
    assert any(r["action"] == "search:Flag" and r["patient_id"] == service.well_patient and r["actor"] == "patient"
               for r in audit)
    assert any(r["action"] == "read:Flag" and r["patient_id"] == service.well_patient for r in audit)
