"""Conversations with the database: consent before storage, retention purge, the crisis alert stored as FHIR
Flag + Communication with its audit record, and appointments and medicines handled from the chat."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from medai.assistant.chat import store
from medai.assistant.chat.conversations import Actor, ConversationService
from medai.assistant.chat.types import ChatContext, ConversationState
from medai.store.audit import recent
from medai.store.ingest import ingest_bundle
from medai.store.schema import assistant_messages, resources

from .conftest import NOW, people_bundle

ADA = Actor("ada", "patient", "pat-1")


@pytest.fixture
def service(engine, manager) -> ConversationService:
    with engine.begin() as connection:
        ingest_bundle(connection, people_bundle())
    return ConversationService(engine, manager, retention_days=30)


def _stored(engine) -> list:
    with engine.connect() as connection:
        return list(connection.execute(select(assistant_messages)))


def test_nothing_is_stored_without_consent(service, engine):
    started = service.start(ADA)
    conversation = started["conversation"]
    assert not conversation["stored"] and started["consent"] is None and "not a doctor" in started["replies"][0]["text"]
    turn = service.post(ADA, conversation["id"], "gad-7")
    assert turn["replies"][0]["text"].startswith("GAD-7")
    turn = service.post(ADA, conversation["id"], "1")  # the flow goes on from state kept in memory only
    assert "Not being able to stop or control worrying" in turn["replies"][0]["text"]
    assert _stored(engine) == []
    assert service.history(conversation["id"])["messages"] == []
    with engine.connect() as connection:
        assert store.get_conversation(connection, conversation["id"], with_state=True)["state"] is None


def test_with_consent_messages_are_stored_with_their_screen(service, engine):
    started = service.start(ADA, consent=True, retention_days=7)
    assert started["consent"]["granted"] and started["consent"]["retention_days"] == 7
    conversation_id = started["conversation"]["id"]
    service.post(ADA, conversation_id, "mood check-in")
    history = service.history(conversation_id)
    assert [m["sender"] for m in history["messages"]] == ["assistant", "patient", "assistant"]
    patient = history["messages"][1]
    assert patient["text"] == "mood check-in" and patient["screen"]["risk"] == "none"
    expires = date.fromisoformat(history["conversation"]["expires"][:10])
    assert expires - date.today() in (timedelta(days=7), timedelta(days=8))
    # withdrawing consent stops storage from then on; the earlier messages stay until deleted or expired
    service.set_consent(ADA, granted=False)
    service.post(ADA, conversation_id, "7")
    assert len(service.history(conversation_id)["messages"]) == 3
    # and withdrawing with delete removes them
    service.set_consent(ADA, granted=False, delete_stored=True)
    assert _stored(engine) == []


def test_retention_purge_deletes_expired_conversations_only(service, engine):
    old = service.start(ADA, consent=True, retention_days=1)["conversation"]["id"]
    service.post(ADA, old, "hello")
    fresh = service.start(ADA, consent=True, retention_days=30)["conversation"]["id"]
    assert service.purge(NOW.replace(year=2000)) == 0
    from datetime import datetime, timezone

    assert service.purge(datetime.now(timezone.utc) + timedelta(days=2)) == 1
    with engine.connect() as connection:
        left = [c["id"] for c in store.list_conversations(connection, "pat-1")]
        assert left == [fresh]
        assert {r.conversation_id for r in connection.execute(select(assistant_messages))} == {fresh}


def test_a_crisis_stores_the_alert_audits_it_and_flags_the_conversation(service, engine):
    conversation_id = service.start(ADA, consent=True)["conversation"]["id"]
    service.post(ADA, conversation_id, "phq-9")
    turn = service.post(ADA, conversation_id, "I want to kill myself tonight")
    assert turn["flagged"] and turn["risk"] == "imminent" and turn["crisis"]["stop_flow"]
    assert turn["conversation"]["flagged"] and turn["conversation"]["flagged_at"]
    with engine.connect() as connection:
        types = sorted(r.resource_type for r in connection.execute(
            select(resources.c.resource_type).where(resources.c.patient_id == "pat-1",
                                                    resources.c.resource_type.in_(("Flag", "Communication")))))
        assert types == ["Communication", "Flag"]
        actions = [r["action"] for r in recent(connection, 20)]
    assert "assistant.crisis" in actions and "assistant.message" in actions
    # a later calm message does not lower anything, and no second alert is stored
    calm = service.post(ADA, conversation_id, "hi")
    assert calm["risk"] == "imminent" and calm["flagged"] and calm["screen"]["risk"] == "none"
    with engine.connect() as connection:
        flags = list(connection.execute(select(resources.c.id).where(resources.c.resource_type == "Flag")))
        stored = store.conversation_messages(connection, conversation_id)
    assert len(flags) == 1
    assert [m["risk"] for m in stored if m["sender"] == "patient"] == ["none", "imminent", "none"]
    handoff = service.post(ADA, conversation_id, "yes")
    assert handoff["handoff"] and handoff["conversation"]["handoff_at"]


def test_risk_in_memory_never_drops_below_the_stored_columns(service, engine):
    conversation_id = service.start(ADA)["conversation"]["id"]  # not stored: state in memory
    service.post(ADA, conversation_id, "my husband hits me")
    service.transient.clear()  # as after a restart
    turn = service.post(ADA, conversation_id, "hi")
    assert turn["risk"] == "high" and turn["flagged"]


def test_booking_rescheduling_and_cancelling_from_the_chat(engine, manager):
    from medai.assistant.scheduling.slots import publish_schedule

    with engine.begin() as connection:
        ingest_bundle(connection, people_bundle())
        publish_schedule(connection, "doc-1", NOW.date(), 3)
    events = []
    state = ConversationState()

    def turn(text):
        with engine.begin() as connection:
            ctx = ChatContext(patient_id="pat-1", actor="ada", now=NOW, connection=connection,
                              audit=lambda action, detail: events.append(action))
            return manager.handle(state, text, ctx)

    offer = turn("I'd like to book an appointment")
    assert offer.replies[0].kind == "question" and len(offer.replies[0].quick_replies) == 6
    assert "Dr. John Snow" in offer.replies[0].text
    booked = turn("2")
    appointment = booked.replies[0].data["appointment"]
    assert appointment["status"] == "booked" and appointment["start"] == offer.replies[0].data["slots"][1]["start"]
    assert "my appointments" in [q.value for q in booked.replies[0].quick_replies]
    moved = turn("reschedule my appointment")  # one booked: straight to the slots
    assert len(moved.replies[0].quick_replies) == 6
    done = turn("1")
    assert done.replies[0].data["appointment"]["start"] == moved.replies[0].data["slots"][0]["start"]
    assert turn("cancel my appointment").replies[0].kind == "question"
    cancelled = turn("yes")
    assert cancelled.replies[0].data["appointment"]["status"] == "cancelled"
    assert "You have no upcoming appointments" in turn("my appointments").replies[0].text
    assert {"assistant.book-appointment", "assistant.reschedule-appointment", "assistant.cancel-appointment",
            "assistant.read-slots"} <= set(events)


def test_todays_medicines_and_logging_a_dose(engine, manager):
    with engine.begin() as connection:
        ingest_bundle(connection, people_bundle())
    state = ConversationState()
    now = NOW.replace(hour=9)

    def turn(text):
        with engine.begin() as connection:
            return manager.handle(state, text, ChatContext(patient_id="pat-1", actor="ada", now=now, connection=connection))

    today = turn("what are my meds today")
    doses = today.replies[0].data["doses"]
    assert [d["time"][11:16] for d in doses] == ["07:00", "19:00"] and {d["status"] for d in doses} == {"not logged"}
    logged = turn("I took my amoxicillin")
    assert logged.replies[0].data["adherence"]["status"] == "late"  # 2 h after the 07:00 dose
    assert [d["status"] for d in turn("my medicines").replies[0].data["doses"]] == ["late", "not logged"]
    assert "no dose due" in turn("I took my medicine").replies[0].text
