"""The assistant chat API: patients start and use only their own conversations, consent decides storage,
clinicians read flagged conversations only, every read is audited (denied ones too)."""

from __future__ import annotations

import pytest

from medai.assistant.chat import DialogueManager
from medai.assistant.chat.conversations import ConversationService
from medai.assistant.safety import CrisisScreener
from medai.store.accounts import add_user, issue_token
from medai.store.audit import recent

API = "/api/v1/assistant"


@pytest.fixture
def chat(service):
    """The service with a second patient user."""
    app = service.client.app
    # the crisis screen's lexicon rules (the learned model, slow to load, is tested with the safety layer)
    app.state.runtime["assistant_chat"] = ConversationService(
        app.state.engine, DialogueManager(screener=CrisisScreener(model=None), semantic=False))
    with app.state.engine.begin() as connection:
        add_user(connection, "patient2", "patient", password="patient2-pw", patient_id=service.sick_patient)
        service.tokens["patient2"] = issue_token(connection, "patient2")[1]
    return service


def _audit(service, action: str) -> list[dict]:
    with service.client.app.state.engine.connect() as connection:
        return [r for r in recent(connection, 200) if r["action"] == action]


def test_patient_chats_with_consent_and_reads_the_history(chat):
    client, headers = chat.client, chat.headers("patient", "application/json")
    assert client.get(f"{API}/consent", headers=headers).json()["latest"] is None
    started = client.post(f"{API}/conversations", json={"consent": True, "retention_days": 30}, headers=headers)
    assert started.status_code == 201, started.text
    body = started.json()
    conversation_id = body["conversation"]["id"]
    assert body["conversation"]["stored"] and "not a doctor" in body["replies"][0]["text"]
    reply = client.post(f"{API}/conversations/{conversation_id}/messages", json={"text": "breathing exercise"}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["replies"][0]["kind"] == "question" and reply.json()["screen"]["risk"] == "none"
    history = client.get(f"{API}/conversations/{conversation_id}", headers=headers).json()
    assert [m["sender"] for m in history["messages"]] == ["assistant", "patient", "assistant"]
    listed = client.get(f"{API}/conversations", headers=headers).json()["conversations"]
    assert [c["id"] for c in listed] == [conversation_id] and listed[0]["messages"] == 3
    assert _audit(chat, "assistant.read-conversation") and _audit(chat, "assistant.list-conversations")
    consent = client.get(f"{API}/consent", headers=headers).json()
    assert consent["storing"] and consent["latest"]["retention_days"] == 30


def test_patients_are_isolated_from_each_other(chat):
    client = chat.client
    mine = client.post(f"{API}/conversations", json={"consent": True}, headers=chat.headers("patient", "application/json")).json()
    conversation_id = mine["conversation"]["id"]
    other = chat.headers("patient2", "application/json")
    assert client.get(f"{API}/conversations/{conversation_id}", headers=other).status_code == 403
    assert client.post(f"{API}/conversations/{conversation_id}/messages", json={"text": "hi"}, headers=other).status_code == 403
    assert client.delete(f"{API}/conversations/{conversation_id}", headers=other).status_code == 403
    assert client.get(f"{API}/conversations", headers=other).json()["conversations"] == []
    assert client.get(f"{API}/conversations?patient_id={chat.well_patient}", headers=other).status_code == 403
    denied = [r for r in _audit(chat, "assistant.read-conversation") if r["outcome"] == "denied"]
    assert denied and denied[0]["actor"] == "patient2"


def test_clinicians_read_only_flagged_conversations(chat):
    client, patient = chat.client, chat.headers("patient", "application/json")
    calm = client.post(f"{API}/conversations", json={"consent": True}, headers=patient).json()["conversation"]["id"]
    crisis = client.post(f"{API}/conversations", json={}, headers=patient).json()["conversation"]["id"]
    turn = client.post(f"{API}/conversations/{crisis}/messages", json={"text": "I want to end my life"}, headers=patient).json()
    assert turn["flagged"] and turn["replies"][0]["kind"] == "crisis" and turn["crisis"]["resources"]
    assert "alert" not in turn["crisis"]  # the clinician alert is not echoed to the patient
    clinician = chat.headers("clinician", None)
    flagged = client.get(f"{API}/conversations", headers=clinician).json()["conversations"]
    assert [c["id"] for c in flagged] == [crisis] and flagged[0]["patient_id"] == chat.well_patient
    assert client.get(f"{API}/conversations/{calm}", headers=clinician).status_code == 403
    read = client.get(f"{API}/conversations/{crisis}", headers=clinician)
    assert read.status_code == 200 and read.json()["conversation"]["risk"] in ("high", "imminent")
    assert any(r["actor"] == "clinician" and r["outcome"] == "success" for r in _audit(chat, "assistant.read-conversation"))
    assert _audit(chat, "assistant.crisis")
    # the alert reached the FHIR store
    from sqlalchemy import select

    from medai.store.schema import resources

    with chat.client.app.state.engine.connect() as connection:
        stored = {r.resource_type for r in connection.execute(select(resources.c.resource_type).where(
            resources.c.patient_id == chat.well_patient))}
    assert {"Flag", "Communication"} <= stored
    # staff cannot write into a patient's chat; the service role cannot read it
    assert client.post(f"{API}/conversations/{crisis}/messages", json={"text": "hi"},
                       headers=chat.headers("clinician", "application/json")).status_code == 403
    assert client.get(f"{API}/conversations/{crisis}", headers=chat.headers("service", None)).status_code == 403


def test_patient_deletes_own_conversation_and_bad_input_is_named(chat):
    client, headers = chat.client, chat.headers("patient", "application/json")
    conversation_id = client.post(f"{API}/conversations", json={"consent": True}, headers=headers).json()["conversation"]["id"]
    bad = client.post(f"{API}/conversations/{conversation_id}/messages", json={"text": ""}, headers=headers)
    assert bad.status_code == 422 and "text" in bad.json()["issue"][0]["expression"][0]
    assert client.post(f"{API}/conversations", json={"retention_days": 0}, headers=headers).status_code == 422
    assert client.delete(f"{API}/conversations/{conversation_id}", headers=headers).status_code == 204
    assert client.get(f"{API}/conversations/{conversation_id}", headers=headers).status_code == 404
    assert _audit(chat, "assistant.delete-conversation")


def test_admin_purges_expired_conversations(chat):
    assert chat.client.post(f"{API}/purge", headers=chat.headers("admin", None)).json() == {"deleted": 0}
    assert chat.client.post(f"{API}/purge", headers=chat.headers("patient", None)).status_code == 403


def _patient_view(chat, patient_id: str, role: str = "clinician"):
    import uuid

    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": patient_id}}
    return chat.client.post("/cds-services/assistant-crisis-alerts", json=body, headers=chat.headers(role, "application/json"))


def test_a_crisis_reaches_clinicians_as_a_fhir_flag_and_a_critical_cds_card(chat):
    client, patient = chat.client, chat.headers("patient", "application/json")
    assert "assistant-crisis-alerts" in {s["id"] for s in client.get("/cds-services").json()["services"]}
    assert _patient_view(chat, chat.well_patient).json()["cards"] == []
    crisis = client.post(f"{API}/conversations", json={"consent": True}, headers=patient).json()["conversation"]["id"]
    client.post(f"{API}/conversations/{crisis}/messages", json={"text": "I want to end my life"}, headers=patient)
    assert client.post(f"{API}/conversations/{crisis}/messages", json={"text": "yes"}, headers=patient).json()["handoff"]
    # the alert names its conversation, and the FHIR API serves it to the care team
    flags = client.get(f"/fhir/Flag?patient={chat.well_patient}&status=active", headers=chat.headers("clinician", None)).json()
    assert flags["total"] == 1
    flag = flags["entry"][0]["resource"]
    assert flag["identifier"] == [{"system": "urn:medai:assistant:conversation", "value": crisis}]
    sent = client.get(f"/fhir/Communication?patient={chat.well_patient}", headers=chat.headers("clinician", None)).json()
    assert sent["entry"][0]["resource"]["about"] == [{"reference": f"Flag/{flag['id']}"}]
    cards = _patient_view(chat, chat.well_patient).json()["cards"]
    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "critical" and card["uuid"] == flag["id"] and "suicide or self-harm" in card["summary"]
    assert "asked for a person from the care team" in card["detail"]
    assert card["links"][0]["url"] == f"http://testserver/ui/assistant/alerts/{crisis}"
    assert _patient_view(chat, chat.sick_patient).json()["cards"] == []  # the other patient has no alert
    assert _audit(chat, "cds:assistant-crisis-alerts")
    assert _patient_view(chat, chat.well_patient, role="patient").status_code == 403
    # a resolved flag is no longer shown
    from medai.store.ingest import ingest_resource

    with chat.client.app.state.engine.begin() as connection:
        ingest_resource(connection, {**flag, "status": "inactive"})
    assert _patient_view(chat, chat.well_patient).json()["cards"] == []


def test_warm_up_builds_the_apps_chat_service_and_skips_a_given_screener(chat):
    from medai.service.routers.assistant_chat import warm_up_chat

    app = chat.client.app
    assert warm_up_chat(app) is None  # the fixture's rules-only screener has nothing to load
    assert app.state.runtime["assistant_chat"].manager.screener is not None
