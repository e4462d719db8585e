"""Injection attempts on every search parameter: 4xx or an empty / own-patient result, never 5xx, never a leak."""

from urllib.parse import quote

import pytest

from medai.core.records import RECORD_TYPES
from medai.service.security.access import route_access
from tests.security.matrix import fill, path_values

PAYLOADS = [
    "' OR '1'='1", "1; DROP TABLE resources; --", "\" OR 1=1 --", "%' OR patient_id LIKE '%", "1 UNION SELECT body FROM resources",
    "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "<script>alert(1)</script>", "${jndi:ldap://x/a}", "{{7*7}}",
    "\u202e\u0645\u0631\u062d\u0628\u0627", "\U0001f9ec" * 50, "e\u0301", "\ufeff", "\x00", "a\x00b", "\r\nSet-Cookie: x=1",
    "A" * 20_000, "-1", "0", "99999999999999999999999", "NaN", "1e309", "[]", "{}", "null", "*", "%", "_",
]

SHORT = ["' OR '1'='1", "../../etc/passwd", "\u202e\U0001f9ec", "a\x00b", "A" * 20_000, "-1", "99999999999999999999999", "1e309"]


def _no_sick_data(service, text: str) -> None:
    assert service.sick_patient not in text and f"MRN-{service.sick_patient[:6]}" not in text


@pytest.mark.parametrize("resource_type", sorted(RECORD_TYPES))
def test_fhir_search_parameters_resist_injection(service, resource_type):
    headers = service.headers("clinician", None)
    for payload in PAYLOADS:
        for params in ({"patient": payload}, {"patient": service.well_patient, "code": payload}, {"_count": payload}):
            response = service.client.get(f"/fhir/{resource_type}", params=params, headers=headers)
            assert response.status_code < 500, (params, response.status_code)
            if "patient" in params and params["patient"] == payload:
                assert response.status_code >= 400 or response.json()["total"] == 0, (params, response.text[:200])
            if "code" in params:
                _no_sick_data(service, response.text)


def test_fhir_read_ids_resist_injection(service):
    for payload in PAYLOADS:
        for resource_type in ("Patient", "Observation", payload):
            path = f"/fhir/{quote(resource_type, safe='')}/{quote(payload, safe='')}"
            response = service.client.get(path, headers=service.headers("patient", None))
            assert response.status_code < 500
            _no_sick_data(service, response.text)


def test_patient_cannot_widen_a_search_by_injection(service):
    for payload in PAYLOADS[:10]:
        response = service.client.get("/fhir/Observation", params={"patient": payload}, headers=service.headers("patient", None))
        assert response.status_code in (400, 403), payload
    own = service.client.get("/fhir/Observation", headers=service.headers("patient", None)).json()
    assert own["total"] > 0 and service.sick_patient not in str(own)


def test_every_query_parameter_of_every_route_resists_injection(service):
    """Generated from the routes: every declared query parameter of every GET route (a clinician asking)."""
    client = service.client
    checked = 0
    for route in route_access(client.app):
        if route.method != "GET" or not route.query_params:
            continue
        path = fill(route, path_values(service, service.well_patient))
        for name in route.query_params:
            for payload in SHORT:
                client.cookies.clear()
                response = client.get(path, params={name: payload}, headers=service.headers("clinician", None), follow_redirects=False)
                checked += 1
                assert response.status_code < 500, (path, name, repr(payload[:40]), response.status_code)
    assert checked > 100


def test_control_characters_in_any_url_are_400(service):
    for path in (f"/api/risk/patients/{service.well_patient}%00/news2", "/fhir/Patient/a%00b", "/fhir/Observation?patient=a%00b",
                 "/ui/patients/x%0d%0aSet-Cookie:%20a=b", "/api/v1/forecast/runs?kind=%00"):
        response = service.client.get(path, headers=service.headers("clinician", None))
        assert response.status_code == 400, path
        assert "control characters" in response.json()["issue"][0]["diagnostics"]
        assert "a=b" not in response.headers.get("set-cookie", "")
