"""401 without a valid token on every protected route; 403 for the wrong role or patient."""

import pytest

PUBLIC = {"/health", "/metrics", "/cds-services", "/fhir/metadata", "/auth/token", "/openapi.json", "/docs",
          "/docs/oauth2-redirect", "/redoc", "/"}


def _api_routes(service):
    for path, operations in service.client.app.openapi()["paths"].items():
        if path in PUBLIC or path.startswith("/ui"):
            continue
        for method in operations:
            yield method.upper(), path.replace("{patient_id}", service.well_patient).replace("{resource_type}", "Patient") \
                .replace("{resource_id}", service.well_patient).replace("{service_id}", "news2-deterioration").replace("{name}", "news2")


def test_every_protected_api_route_answers_401_without_a_token(service):
    routes = list(_api_routes(service))
    assert len(routes) >= 10
    for method, path in routes:
        response = service.client.request(method, path)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["resourceType"] == "OperationOutcome"
        bad = service.client.request(method, path, headers={"Authorization": "Bearer mdk_not-a-token"})
        assert bad.status_code == 401, (method, path)


def test_revoked_token_is_refused(service):
    token = service.client.post("/auth/token", data={"username": "clinician", "password": "clinician-pw"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert service.client.get(f"/fhir/Patient/{service.well_patient}", headers=headers).status_code == 200
    assert service.client.post("/auth/revoke", headers=headers).status_code == 200
    assert service.client.get(f"/fhir/Patient/{service.well_patient}", headers=headers).status_code == 401


def test_wrong_password_is_401(service):
    assert service.client.post("/auth/token", data={"username": "clinician", "password": "nope"}).status_code == 401


@pytest.mark.parametrize("role,method,path,expected", [
    ("patient", "GET", "/fhir/Patient/{sick}", 403),
    ("patient", "GET", "/fhir/Patient/{well}", 200),
    ("patient", "GET", "/fhir/Observation?patient={sick}", 403),
    ("patient", "POST", "/fhir", 403),
    ("patient", "GET", "/api/risk/patients/{sick}/news2", 403),
    ("clinician", "GET", "/api/audit", 403),
    ("service", "GET", "/api/audit", 403),
    ("admin", "GET", "/api/audit", 200),
    ("clinician", "GET", "/api/audit/verify", 403),
    ("patient", "POST", "/cds-services/news2-deterioration", 403),
])
def test_roles(service, role, method, path, expected):
    path = path.format(sick=service.sick_patient, well=service.well_patient)
    response = service.client.request(method, path, headers=service.headers(role), content=b"{}")
    assert response.status_code == expected, response.text
