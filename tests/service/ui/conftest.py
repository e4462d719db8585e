"""Fixtures for the web UI tests: an app on a temporary SQLite database with patients and users."""

from __future__ import annotations

import base64
import functools
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
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


# -- sepsis -----------------------------------------------------------------------------------

# (HR, RR, SpO2, temperature, systolic BP) at the start and the end of the stay.
STABLE = {"8867-4": (72, 74, "/min"), "9279-1": (14, 14, "/min"), "59408-5": (98, 98, "%"), "8310-5": (36.8, 36.9, "Cel"),
          "8480-6": (124, 122, "mm[Hg]")}
DETERIORATING = {"8867-4": (84, 126, "/min"), "9279-1": (16, 29, "/min"), "59408-5": (97, 92, "%"),
                 "8310-5": (37.1, 39.3, "Cel"), "8480-6": (124, 86, "mm[Hg]")}
LAB_NAMES = {"2524-7": ("Lactate", "mmol/L"), "6690-2": ("Leukocytes", "10*3/uL")}


def _observation(patient_ref: dict, code: str, display: str, when: datetime, value: float, unit: str,
                 category: str) -> dict:
    return _entry({"resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final", "subject": patient_ref,
                   "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
                   "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                   "effectiveDateTime": when.isoformat(),
                   "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}})


def make_sepsis_bundle(family: str, given: str, mrn: str, deteriorating: bool, hours: int = 72,
                       now: datetime | None = None, location: str = "Ward 7B") -> tuple[str, dict]:
    """A Patient in an in-progress Encounter with ``hours`` of hourly vitals and labs every 6 h.

    Deteriorating: normal until the last 24 h, then HR 126, RR 29, T 39.3, SBP 86, SpO2 92; lactate
    4.1 mmol/L (up from 1.8 6 h before) and WBC 15. Stable: normal vitals, lactate 1.0, WBC 7."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    pid = str(uuid.uuid4())
    patient_ref = {"reference": f"urn:uuid:{pid}"}
    entries = [
        _entry({"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "1956-07-02",
                "name": [{"family": family, "given": [given]}],
                "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                     "code": "MR"}]}, "system": "urn:test:mrn", "value": mrn}]}),
        _entry({"resourceType": "Encounter", "id": str(uuid.uuid4()), "status": "in-progress",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
                "subject": patient_ref, "period": {"start": (now - timedelta(hours=hours + 2)).isoformat()},
                "location": [{"location": {"display": location}}]}),
    ]
    trends = DETERIORATING if deteriorating else STABLE
    for hour in range(hours, 0, -1):  # hours ago
        when = now - timedelta(hours=hour - 1, minutes=10)
        # deteriorating: flat start, then a linear slide over the last 24 h
        fraction = min(1.0, max(0.0, (24 - (hour - 1)) / 24)) if deteriorating else (hours - hour) / max(hours - 1, 1)
        for code, (first, last, unit) in trends.items():
            value = round(first + (last - first) * fraction, 1)
            entries.append(_observation(patient_ref, code, VITAL_NAMES[code], when, value, unit, "vital-signs"))
    for ago in range(hours - 6, -1, -6):  # labs every 6 h, the last 30 min ago
        when = now - timedelta(hours=ago, minutes=30)
        if deteriorating:
            lactate = 4.1 if ago == 0 else 1.8 if ago == 6 else 1.2
            wbc = 15.0 if ago == 0 else 11.0 if ago == 6 else 8.5
        else:
            lactate, wbc = 1.0, 7.0
        entries.append(_observation(patient_ref, "2524-7", "Lactate", when, lactate, "mmol/L", "laboratory"))
        entries.append(_observation(patient_ref, "6690-2", "Leukocytes", when, wbc, "10*3/uL", "laboratory"))
    return pid, {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.fixture
def sepsis_patients(ui_app) -> dict[str, str]:
    """Adds Dan Fever (deteriorating, 72 h of data) and Sam Steady (stable) to ``ui_app``; returns their ids."""
    from medai.store.ingest import ingest_bundle

    dan, dan_bundle = make_sepsis_bundle("Fever", "Dan", "MRN-0003", deteriorating=True, location="Ward 7B bed 3")
    sam, sam_bundle = make_sepsis_bundle("Steady", "Sam", "MRN-0004", deteriorating=False, location="Ward 7B bed 4")
    with ui_app.state.engine.begin() as connection:
        ingest_bundle(connection, dan_bundle)
        ingest_bundle(connection, sam_bundle)
    ui_app.state.test_patients.update(dan=dan, sam=sam)
    return {"dan": dan, "sam": sam}


@functools.lru_cache(maxsize=1)
def stub_sepsis_model():
    """A small LightGBM sepsis model trained on made-up rows, so the UI can be tested without the shipped package.

    Its risk rises with HR > 100, RR > 22, T > 38.3, SBP < 100, lactate > 2 (more > 3.5) and WBC > 12.
    Identity ``sepsis-ews`` 0.0.0-test; threshold 0.4."""
    import lightgbm as lgb
    import numpy as np

    from medai.core.prediction import ModelIdentity
    from medai.risk.sepsis.alerting import AlertPolicy
    from medai.risk.sepsis.features import FEATURE_NAMES
    from medai.risk.sepsis.lgbm import SepsisLightGBM
    from medai.risk.sepsis.model import SepsisModel

    rng = np.random.default_rng(0)
    n = 4000
    column = {name: i for i, name in enumerate(FEATURE_NAMES)}
    X = np.full((n, len(FEATURE_NAMES)), np.nan)
    for name, (low, high) in {"HR": (50, 140), "Resp": (10, 34), "Temp": (35.5, 40), "SBP": (75, 150), "O2Sat": (86, 100),
                              "Lactate": (0.5, 6), "WBC": (3, 22)}.items():
        X[:, column[name]] = rng.uniform(low, high, n)
    v = {name: X[:, column[name]] for name in ("HR", "Resp", "Temp", "SBP", "Lactate", "WBC")}
    z = (-4 + 1.2 * (v["HR"] > 100) + 1.0 * (v["Resp"] > 22) + 0.8 * (v["Temp"] > 38.3) + 1.0 * (v["SBP"] < 100)
         + 1.5 * (v["Lactate"] > 2) + 0.8 * (v["Lactate"] > 3.5) + 0.8 * (v["WBC"] > 12))
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    params = {"objective": "binary", "learning_rate": 0.1, "num_leaves": 8, "min_child_samples": 20, "verbosity": -1,
              "num_threads": 1, "seed": 0}
    lgbm = SepsisLightGBM(n_jobs=1)
    lgbm.booster_ = lgb.train(params, lgb.Dataset(X, y, feature_name=FEATURE_NAMES), num_boost_round=60)
    return SepsisModel(lgbm, (0.0, 1.0), AlertPolicy(threshold=0.4, suppression_hours=6.0, escalation_delta=0.15),
                       identity=ModelIdentity(model_id="sepsis-ews", model_version="0.0.0-test", weights_sha256="5e" * 32))


@pytest.fixture
def stub_sepsis(monkeypatch):
    """The UI (and the sepsis API) use ``stub_sepsis_model()`` instead of the installed package."""
    from medai.service.routers import sepsis as sepsis_router

    model = stub_sepsis_model()
    monkeypatch.setattr(sepsis_router, "sepsis_model", lambda: model)
    return model


@pytest.fixture
def no_sepsis(monkeypatch):
    """The sepsis package is not installed."""
    from medai.service.routers import sepsis as sepsis_router

    monkeypatch.setattr(sepsis_router, "sepsis_model", lambda: None)


@pytest.fixture
def shipped_sepsis():
    """The shipped ``sepsis-ews`` package; the test is skipped until it is installed."""
    from medai.service.routers import sepsis as sepsis_router

    model = sepsis_router.sepsis_model()
    if model is None:
        sepsis_router.sepsis_model.cache_clear()  # it may have been installed since the last look
        model = sepsis_router.sepsis_model()
    if model is None:
        pytest.skip("the sepsis-ews model package is not installed yet")
    return model


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served(tmp_path, prepare: Callable) -> Iterator[tuple[str, object]]:
    """Serve a fresh app (SQLite under ``tmp_path``) with uvicorn on a free localhost port.

    ``prepare(app)`` fills the database before the server starts; yields ``(base_url, what prepare returned)``."""
    uvicorn = pytest.importorskip("uvicorn")
    from medai.service.app import create_app

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/t.db", base_url=base_url))
    prepared = prepare(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield base_url, prepared
    server.should_exit = True
    thread.join(timeout=10)
