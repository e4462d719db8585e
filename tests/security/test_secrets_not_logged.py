"""Passwords, bearer tokens and JWTs never reach the logs or the audit trail."""

import json
import logging
import uuid

from tests.security.conftest import sign_jwt


def test_sign_in_and_cds_calls_log_no_secrets(service, ehr_key, caplog):
    caplog.set_level(logging.DEBUG)
    client = service.client
    secrets = ["clinician-pw", "Wr0ng-Passw0rd!"]
    client.post("/auth/token", data={"username": "clinician", "password": "Wr0ng-Passw0rd!"})
    token = client.post("/auth/token", data={"username": "clinician", "password": "clinician-pw"}).json()["access_token"]
    client.post("/ui/login", data={"username": "clinician", "password": "clinician-pw"}, follow_redirects=False)
    secrets.append(token)
    client.get(f"/fhir/Patient/{service.well_patient}", headers={"Authorization": f"Bearer {token}"})
    jwt_token = sign_jwt(ehr_key, "http://testserver/cds-services/news2-deterioration")
    secrets.append(jwt_token)
    hook = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"patientId": service.sick_patient}}
    assert client.post("/cds-services/news2-deterioration", json=hook, headers={"Authorization": f"Bearer {jwt_token}"}).status_code == 200
    replay = client.post("/cds-services/news2-deterioration", json=hook, headers={"Authorization": f"Bearer {jwt_token}"})
    assert replay.status_code == 401 and jwt_token not in replay.text
    client.get("/api/audit", headers={"Authorization": "Bearer mdk_" + "s3cret" * 6})
    secrets.append("mdk_" + "s3cret" * 6)
    client.post("/auth/revoke", headers={"Authorization": f"Bearer {token}"})

    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "the service logged nothing; the check would be vacuous"
    for secret in secrets:
        assert secret not in logged
        assert secret.split(".")[-1] not in logged  # not even a JWT's signature
    trail = json.dumps(client.get("/api/audit", params={"limit": 1000}, headers=service.headers("admin", None)).json())
    for secret in secrets:
        assert secret not in trail


def test_no_patient_identifiers_in_logs_across_every_route(service, bad_tokens, caplog):
    from tests.security.matrix import run_matrix

    caplog.set_level(logging.DEBUG)
    run_matrix(service, bad_tokens)
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]  # the test client logs its own URLs
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in server_side)
    assert server_side
    for patient in (service.sick_patient, service.well_patient):
        assert patient not in logged and f"MRN-{patient[:6]}" not in logged
    assert "Testperson" not in logged  # the patients' family name
