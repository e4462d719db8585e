"""The service under test, with one user per role and their tokens."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from medai.service.app import create_app
from medai.store.accounts import add_user, issue_token
from medai.store.ingest import ingest_bundle
from tests.conftest import make_bundle


@dataclass
class Service:
    client: TestClient
    tokens: dict[str, str]
    sick_patient: str
    well_patient: str

    def headers(self, role: str, content_type: str | None = "application/fhir+json") -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        if content_type:
            headers["Content-Type"] = content_type
        return headers


@pytest.fixture
def service(settings) -> Service:
    """The app on a temporary database holding two patients (one deteriorating)."""
    app = create_app(settings)
    sick, well = make_bundle(sick=True), make_bundle()
    sick_id, well_id = sick["entry"][0]["resource"]["id"], well["entry"][0]["resource"]["id"]
    tokens = {}
    with app.state.engine.begin() as connection:
        ingest_bundle(connection, sick)
        ingest_bundle(connection, well)
        for role in ("clinician", "admin", "service"):
            add_user(connection, role, role, password=f"{role}-pw")
            tokens[role] = issue_token(connection, role)[1]
        add_user(connection, "patient", "patient", password="patient-pw", patient_id=well_id)
        tokens["patient"] = issue_token(connection, "patient")[1]
    return Service(TestClient(app), tokens, sick_id, well_id)
