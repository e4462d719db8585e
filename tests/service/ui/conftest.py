"""Fixtures for the web UI tests: an app on a temporary SQLite database with patients and users."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from medai.config import Settings

PASSWORDS = {"drsmith": "correct horse 1", "root": "correct horse 2", "alice": "correct horse 3"}
# Deterministic vitals: HR 120 (2), RR 22 (2), SpO2 93 (2), T 38.5 (1), SBP 105 (1) -> NEWS2 8, high risk.
VITALS = {"8867-4": (120, "/min"), "9279-1": (22, "/min"), "59408-5": (93, "%"), "8310-5": (38.5, "Cel"),
          "8480-6": (105, "mm[Hg]")}
VITAL_NAMES = {"8867-4": "Heart rate", "9279-1": "Respiratory rate", "59408-5": "Oxygen saturation",
               "8310-5": "Body temperature", "8480-6": "Systolic blood pressure"}
LOINC = "http://loinc.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _entry(resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]}}


def make_bundle(family: str, given: str, mrn: str, hours: int = 12, now: datetime | None = None,
                vitals: dict[str, tuple[float, str]] | None = None) -> tuple[str, dict]:
    """A transaction Bundle: a Patient, an in-progress Encounter, hourly vitals for ``hours`` h, a lab,
    a Condition, a MedicationRequest, an AllergyIntolerance and a note. Returns (patient id, bundle)."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    vitals = VITALS if vitals is None else vitals
    pid, eid = str(uuid.uuid4()), str(uuid.uuid4())
    patient_ref, encounter_ref = {"reference": f"urn:uuid:{pid}"}, {"reference": f"urn:uuid:{eid}"}
    entries = [
        _entry({"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1950-03-14",
                "name": [{"family": family, "given": [given]}],
                "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                     "code": "MR"}]}, "system": "urn:test:mrn", "value": mrn}]}),
        _entry({"resourceType": "Encounter", "id": eid, "status": "in-progress",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
                "subject": patient_ref, "period": {"start": (now - timedelta(days=2)).isoformat()},
                "location": [{"location": {"display": "Ward 7B"}}]}),
        _entry({"resourceType": "Condition", "id": str(uuid.uuid4()), "subject": patient_ref,
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J18.9"}],
                         "text": "Community-acquired pneumonia"}}),
        _entry({"resourceType": "MedicationRequest", "id": str(uuid.uuid4()), "status": "active", "intent": "order",
                "subject": patient_ref, "medicationCodeableConcept": {"text": "amoxicillin 500 mg capsule"},
                "dosageInstruction": [{"text": "500 mg by mouth three times daily"}]}),
        _entry({"resourceType": "AllergyIntolerance", "id": str(uuid.uuid4()), "patient": patient_ref,
                "criticality": "high", "code": {"text": "Penicillin G"}}),
        _entry({"resourceType": "DocumentReference", "id": str(uuid.uuid4()), "status": "current", "subject": patient_ref,
                "date": (now - timedelta(hours=3)).isoformat(), "type": {"text": "Progress note"},
                "content": [{"attachment": {"contentType": "text/plain", "title": "Progress note",
                                            "data": base64.b64encode(b"Feels short of breath. Crackles at the right base.").decode()}}]}),
        _entry({"resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final", "subject": patient_ref,
                "category": [{"coding": [{"system": CATEGORY, "code": "laboratory"}]}],
                "code": {"coding": [{"system": LOINC, "code": "2524-7", "display": "Lactate"}]},
                "effectiveDateTime": (now - timedelta(hours=4)).isoformat(),
                "valueQuantity": {"value": 2.9, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}}),
    ]
    for hour in range(hours):
        when = (now - timedelta(hours=hour, minutes=5)).isoformat()
        for code, (value, unit) in vitals.items():
            entries.append(_entry({
                "resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final", "subject": patient_ref,
                "encounter": encounter_ref, "category": [{"coding": [{"system": CATEGORY, "code": "vital-signs"}]}],
                "code": {"coding": [{"system": LOINC, "code": code, "display": VITAL_NAMES[code]}]},
                "effectiveDateTime": when,
                "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                                  "code": unit}}))
    return pid, {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.fixture
def bundle_factory() -> Callable[..., tuple[str, dict]]:
    """Build a small patient bundle (see ``make_bundle``)."""
    return make_bundle


@pytest.fixture
def ui_app(tmp_path):
    """The service with two patients (Ann Jones with deranged vitals, Bob Brown without vitals) and three users:
    ``drsmith`` (clinician), ``root`` (admin) and ``alice`` (patient Ann Jones)."""
    from medai.service.app import create_app
    from medai.store.accounts import add_user
    from medai.store.ingest import ingest_bundle

    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/t.db", base_url="http://testserver")
    app = create_app(settings)
    ann, ann_bundle = make_bundle("Jones", "Ann", "MRN-0001")
    bob, bob_bundle = make_bundle("Brown", "Bob", "MRN-0002", hours=0)
    with app.state.engine.begin() as connection:
        ingest_bundle(connection, ann_bundle)
        ingest_bundle(connection, bob_bundle)
        add_user(connection, "drsmith", "clinician", password=PASSWORDS["drsmith"])
        add_user(connection, "root", "admin", password=PASSWORDS["root"])
        add_user(connection, "alice", "patient", password=PASSWORDS["alice"], patient_id=ann)
    app.state.test_patients = {"ann": ann, "bob": bob}
    return app


@pytest.fixture
def client(ui_app):
    """A TestClient that does not follow redirects."""
    from fastapi.testclient import TestClient

    with TestClient(ui_app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def sign_in(client) -> Callable[[str], object]:
    """Sign ``client`` in as one of the fixture users through the login form."""

    def _sign_in(username: str):
        response = client.post("/ui/login", data={"username": username, "password": PASSWORDS[username]})
        assert response.status_code == 303, response.text
        return response

    return _sign_in
