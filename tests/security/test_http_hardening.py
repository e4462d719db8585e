"""Security headers, CORS (allow-list, default none) and request body-size limits (413 with a clear message)."""

import json

from fastapi.testclient import TestClient

from medai.service.app import create_app


def test_security_headers_on_api_ui_and_errors(service):
    for path in ("/health", "/fhir/metadata", "/ui/login", f"/fhir/Patient/{service.well_patient}", "/no-such-page"):
        headers = service.client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers  # plain http: no HSTS


def test_hsts_only_over_https(settings):
    client = TestClient(create_app(settings), base_url="https://testserver")
    assert client.get("/health").headers["strict-transport-security"].startswith("max-age=31536000")


def test_no_cors_by_default(service):
    response = service.client.options("/fhir/metadata", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in response.headers
    get = service.client.get("/fhir/metadata", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in get.headers


def test_cors_allow_list(settings):
    client = TestClient(create_app(settings.model_copy(update={"cors_origins": ["https://ui.hospital.example"]})))
    allowed = client.options("/fhir/metadata", headers={"Origin": "https://ui.hospital.example", "Access-Control-Request-Method": "GET"})
    assert allowed.headers["access-control-allow-origin"] == "https://ui.hospital.example"
    assert "access-control-allow-credentials" not in allowed.headers
    other = client.get("/fhir/metadata", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def _diagnostics(response) -> str:
    return response.json()["issue"][0]["diagnostics"]


def test_declared_oversized_body_is_413_on_any_route(service):
    big = b"x" * 2_100_000  # settings.max_body_bytes is 2 MB in the tests
    response = service.client.post("/auth/token", content=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "exceeds the limit of 2000000 bytes" in _diagnostics(response)
    fhir = service.client.post("/fhir", content=json.dumps({"pad": "x" * 2_100_000}), headers=service.headers("clinician"))
    assert fhir.status_code == 413 and "exceeds the limit" in _diagnostics(fhir)


def test_streamed_oversized_body_is_413(service):
    def chunks():
        for _ in range(30):
            yield b"a" * 100_000

    response = service.client.post("/auth/token", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and "exceeds the limit of 2000000 bytes" in _diagnostics(response)
    ui = service.client.post("/ui/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ui.status_code == 413


def test_upload_limit_is_configurable_separately(settings):
    app = create_app(settings.model_copy(update={"max_upload_bytes": 3_000_000}))
    from medai.store.accounts import add_user, issue_token

    with app.state.engine.begin() as connection:
        add_user(connection, "clinician", "clinician")
        token = issue_token(connection, "clinician")[1]
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {token}"}
    files = {"file": ("census.csv", b"date,census\n" + b"x" * 3_100_000, "text/csv")}
    too_big = client.post("/api/v1/forecast/census", headers=headers, files=files)
    assert too_big.status_code == 413 and "exceeds the limit of 3000000 bytes" in _diagnostics(too_big)
    small = {"file": ("census.csv", b"date,census\n" + b"x" * 2_500_000, "text/csv")}  # over max_body_bytes, under the upload limit
    assert client.post("/api/v1/forecast/census", headers=headers, files=small).status_code != 413


def test_deeply_nested_json_is_400_not_a_crash(service):
    for path in ("/fhir", "/fhir/Observation", "/cds-services/news2-deterioration", "/api/v1/treatment/review"):
        response = service.client.post(path, content=b"[" * 200_000, headers=service.headers("clinician"))
        assert response.status_code == 400, (path, response.status_code)
        assert "nested too deeply" in _diagnostics(response)
