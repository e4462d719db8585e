"""Shared fixtures: databases (SQLite and PostgreSQL), a small FHIR bundle, the service with users."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from medai.config import Settings
from medai.store.db import make_engine, migrate

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DATA_DIR = os.environ.get("MEDAI_DATA_DIR")
POSTGRES_URL = os.environ.get("MEDAI_TEST_POSTGRES_URL")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``data`` need $MEDAI_DATA_DIR; ``postgres`` ones need $MEDAI_TEST_POSTGRES_URL (CI sets both)."""
    for item in items:
        if "data" in item.keywords and not DATA_DIR:
            item.add_marker(pytest.mark.skip(reason="MEDAI_DATA_DIR is not set"))


@pytest.fixture
def data_dir() -> Path:
    """Root of the real public datasets."""
    return Path(DATA_DIR)


def _postgres_engine():
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    from sqlalchemy import create_engine

    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    return engine, admin, schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """A migrated database engine: SQLite (WAL) and, where configured, PostgreSQL in a fresh schema."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("MEDAI_TEST_POSTGRES_URL is not set")
    engine, admin, schema = _postgres_engine()
    migrate(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def vital(patient: str, loinc: str, value: float, unit: str, when: datetime, display: str = "vital") -> dict:
    """A vital-sign Observation resource."""
    return {"resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": display}]},
            "subject": {"reference": patient}, "effectiveDateTime": when.isoformat(),
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def make_bundle(patient_id: str | None = None, hours: int = 6, sick: bool = False, now: datetime | None = None) -> dict:
    """A transaction Bundle: a Patient, a Condition, a MedicationRequest and hourly vitals (urn:uuid references)."""
    patient_id = patient_id or str(uuid.uuid4())
    now = now or datetime.now(timezone.utc)
    urn = f"urn:uuid:{patient_id}"
    entries = [{"fullUrl": urn, "request": {"method": "POST", "url": "Patient"},
                "resource": {"resourceType": "Patient", "id": patient_id, "gender": "female", "birthDate": "1950-04-02",
                             "name": [{"family": "Testperson", "given": ["Ada"]}],
                             "identifier": [{"system": "urn:test:mrn", "value": "MRN-" + patient_id[:6]}]}},
               {"resource": {"resourceType": "Condition", "id": str(uuid.uuid4()), "subject": {"reference": urn},
                             "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                             "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003", "display": "Hypertension"}]}},
                "request": {"method": "POST", "url": "Condition"}},
               {"resource": {"resourceType": "MedicationRequest", "id": str(uuid.uuid4()), "status": "active", "intent": "order",
                             "subject": {"reference": urn},
                             "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "314076", "display": "lisinopril 10 MG Oral Tablet"}]}},
                "request": {"method": "POST", "url": "MedicationRequest"}}]
    hr, rr, sbp, temp, spo2 = (125, 26, 88, 39.4, 90) if sick else (72, 14, 124, 36.8, 98)
    for h in range(hours):
        when = now - timedelta(hours=hours - h)
        for loinc, value, unit in [("8867-4", hr, "/min"), ("9279-1", rr, "/min"), ("8480-6", sbp, "mm[Hg]"),
                                   ("8310-5", temp, "Cel"), ("59408-5", spo2, "%")]:
            entries.append({"resource": vital(urn, loinc, value, unit, when), "request": {"method": "POST", "url": "Observation"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings pointing at a temporary SQLite database."""
    return Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'service.db'}", base_url="http://testserver",
                    max_body_bytes=2_000_000)


@pytest.fixture(autouse=True)
def _fresh_process_settings():
    """Every test reads ``MEDAI_*`` afresh: the process-wide settings cache never carries one test's environment into the next."""
    from medai.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
