"""``POST /api/v1/assistant/screen``: roles, JSON like the CLI, crisis alert, audit, 422 naming the field."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from medai.store.schema import audit_log


@pytest.fixture
def screen_service(tmp_path):
    """(client, tokens by role, app)."""
    from medai.config import Settings
    from medai.service import app as app_module
    from medai.store.accounts import add_user, issue_token
    app = app_module.create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/api.db",
                                         base_url="http://testserver"))
    tokens = {}
    with app.state.engine.begin() as connection:
        for role in ("clinician", "admin", "service", "patient"):
            add_user(connection, role, role, password=f"{role}-password-1", patient_id="p-1" if role == "patient" else None)
            tokens[role] = issue_token(connection, role)[1]
    return TestClient(app), tokens, app


def _post(client, tokens, body, role="patient"):
    return client.post("/api/v1/assistant/screen", json=body, headers={"Authorization": f"Bearer {tokens[role]}"})


def test_patient_crisis_message_gets_resources_alert_and_audit(screen_service):
    client, tokens, app = screen_service
    response = _post(client, tokens, {"text": "I took all my pills an hour ago", "locale": "en-US"})
    assert response.status_code == 200
    body = response.json()
    assert body["risk"] == "imminent" and set(body["categories"]) == {"suicide_self_harm", "medical_emergency"}
    assert body["evidence"] and body["crisis"]["stop_flow"]
    assert {"911", "988"} <= {r["contact"] for r in body["crisis"]["resources"]}
    assert body["crisis"]["alert"]["flag"]["subject"] == {"reference": "Patient/p-1"}
    with app.state.engine.connect() as connection:
        rows = connection.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
    actions = [r["action"] for r in rows if r["action"].startswith("assistant.")]
    assert actions == ["assistant.screen", "assistant.crisis"]
    assert all("pills" not in r["detail"] for r in rows) and rows[-1]["model_id"] == "crisis-screen"


def test_clinician_and_service_may_screen_admin_may_not(screen_service):
    client, tokens, _ = screen_service
    for role in ("clinician", "service"):
        body = _post(client, tokens, {"text": "my husband beats me"}, role).json()
        assert "abuse" in body["categories"] and body["risk"] == "high"
    assert _post(client, tokens, {"text": "hello"}, "admin").status_code == 403
    assert client.post("/api/v1/assistant/screen", json={"text": "hello"}).status_code == 401


def test_patient_cannot_screen_for_another_patient(screen_service):
    client, tokens, _ = screen_service
    assert _post(client, tokens, {"text": "hello", "patient_id": "p-2"}).status_code == 403


@pytest.mark.parametrize(("body", "field"), [({}, "text"), ({"text": ""}, "text"), ({"text": 5}, "text"),
                                             ({"text": "hi", "colour": "red"}, "colour"), ({"text": "   "}, "text")])
def test_bad_input_is_422_naming_the_field(screen_service, body, field):
    client, tokens, _ = screen_service
    response = _post(client, tokens, body)
    assert response.status_code == 422 and field in response.text
