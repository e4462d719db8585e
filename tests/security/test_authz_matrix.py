"""Every route x every role x no / expired / revoked / forged token, generated from the routes themselves."""

from medai.service.security.access import route_access
from tests.security.matrix import run_matrix


def test_access_map_reads_roles_from_the_routes(service):
    access = {(r.method, r.path): r for r in route_access(service.client.app)}
    assert access[("GET", "/api/audit")].roles == {"admin"}
    assert access[("GET", "/fhir/{resource_type}/{resource_id}")].roles == {"clinician", "admin", "patient", "service"}
    assert access[("POST", "/fhir/Observation")].roles == {"clinician", "admin", "service"}
    assert access[("GET", "/health")].guard == "public"
    assert access[("GET", "/ui/patients")].guard == "session"
    assert sum(r.guard == "roles" for r in access.values()) >= 20


def test_authorisation_matrix_has_no_violations(service, bad_tokens):
    result = run_matrix(service, bad_tokens)
    assert result.routes >= 30 and result.requests >= 300
    assert not result.findings, "\n".join(map(str, result.findings))
