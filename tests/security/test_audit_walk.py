"""Every route that shows patient data writes an audit record (the routes are walked, not listed)."""

import uuid

from sqlalchemy import func, select

from medai.service.security.access import route_access
from medai.store.schema import audit_log
from tests.security.matrix import fill, path_values


# Defects found by this walk, in files owned elsewhere; the fix is named. Remove an entry once fixed (the test says so).
KNOWN_UNAUDITED: dict[str, str] = {}


def _audit_counts(service) -> tuple[int, int]:
    with service.client.app.state.engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(audit_log)).scalar_one()
        mine = connection.execute(select(func.count()).select_from(audit_log)
                                  .where(audit_log.c.patient_id == service.sick_patient)).scalar_one()
    return total, mine


def _role_for(route) -> str:
    return next(role for role in ("clinician", "admin", "service", "patient") if route.allows(role))


def test_every_route_showing_patient_data_is_audited(service):
    client = service.client
    sick = service.sick_patient
    walked, showing, missing = 0, [], []
    for route in route_access(client.app):
        if route.method != "GET" or route.guard == "public" or route.path in ("/api/audit",):
            continue
        path = fill(route, path_values(service, sick))
        if "patient" in route.query_params:
            path += f"?patient={sick}"
        before = _audit_counts(service)
        client.cookies.clear()
        response = client.get(path, headers=service.headers(_role_for(route), None), follow_redirects=False)
        walked += 1
        if response.status_code >= 300 or sick not in response.text:
            continue
        showing.append(route.path)
        total, mine = _audit_counts(service)
        if total == before[0]:
            missing.append(f"GET {route.path} showed patient data without an audit record")
        elif ({"patient_id", "resource_id"} & set(route.path_params) or "patient" in route.query_params) and mine == before[1]:
            missing.append(f"GET {route.path} audited without naming the patient")
    assert walked >= 20 and len(showing) >= 5, showing
    unexpected = [m for m in missing if m not in KNOWN_UNAUDITED]
    assert not unexpected, "\n".join(unexpected)
    fixed = [m for m in KNOWN_UNAUDITED if m not in missing]
    assert not fixed, f"fixed now; remove from KNOWN_UNAUDITED: {fixed}"


def test_every_cds_service_call_is_audited(service):
    client = service.client
    for service_id, cds in client.app.state.cds_services.items():
        before = _audit_counts(service)
        hook = {"hook": cds.hook, "hookInstance": str(uuid.uuid4()), "context": {"patientId": service.sick_patient,
                                                                               "userId": "Practitioner/1"}}
        response = client.post(f"/cds-services/{service_id}", json=hook, headers=service.headers("clinician"))
        assert response.status_code < 500, service_id
        if response.status_code == 200:
            assert _audit_counts(service)[1] > before[1], f"CDS service {service_id} was not audited"


def test_fhir_reads_of_every_stored_type_are_audited(service):
    client = service.client
    for resource_type in ("Patient", "Observation", "Condition", "MedicationRequest"):
        found = client.get(f"/fhir/{resource_type}", params={"patient": service.sick_patient},
                           headers=service.headers("clinician", None)).json()
        resource_id = found["entry"][0]["resource"]["id"]
        before = _audit_counts(service)
        assert client.get(f"/fhir/{resource_type}/{resource_id}", headers=service.headers("clinician", None)).status_code == 200
        assert _audit_counts(service)[1] == before[1] + 1, resource_type
