"""Conversations with the database: start (with or without consent), post a message, read, delete, purge.

Per message, in one transaction: the dialogue manager screens it and answers it (appointments and
medicines work in the same transaction); on a crisis the clinician alert (FHIR ``Flag`` + ``Communication``)
is stored, carrying the conversation's id as an identifier (:data:`CONVERSATION_SYSTEM`); each read or change
of patient data the turn made is audited; the conversation's risk and flag are saved (never lowered) and,
under consent, the messages with their screen results and the state.
The crisis audit record (``assistant.crisis``) follows once that has committed.

Without consent the dialogue state is kept in ``transient`` (memory) only and no message text is stored.
:meth:`ConversationService.warm_up` loads the crisis model and the sentence encoder in the background at start.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from medai.assistant.chat import store
from medai.assistant.chat.knowledge import load_messages
from medai.assistant.chat.manager import DialogueManager
from medai.assistant.chat.types import ChatContext, ConversationState, Reply, Turn
from medai.assistant.safety import audit_crisis
from medai.assistant.safety.types import max_risk
from medai.errors import NotFound
from medai.store.audit import AuditEvent, append_in

log = logging.getLogger(__name__)
TRANSIENT_LIMIT = 2000
CONVERSATION_SYSTEM = "urn:medai:assistant:conversation"


@dataclass
class Actor:
    """Who is acting (the patient, or a clinician reading)."""

    username: str
    role: str
    patient_id: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _age_sex(connection: Connection, patient_id: str, today: date) -> tuple[float | None, str | None]:
    from medai.store.clinical import get_resource

    try:
        patient = get_resource(connection, "Patient", patient_id)
    except NotFound:
        return None, None
    sex = patient.get("gender") if patient.get("gender") in ("female", "male") else None
    age = None
    if patient.get("birthDate"):
        born = date.fromisoformat(patient["birthDate"][:10]) if len(patient["birthDate"]) >= 10 else None
        if born:
            age = float(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
    return age, sex


def conversation_of(resource: dict) -> str | None:
    """The id of the assistant conversation a stored alert (``Flag`` / ``Communication``) came from."""
    for identifier in resource.get("identifier") or []:
        if identifier.get("system") == CONVERSATION_SYSTEM:
            return identifier.get("value")
    return None


def _store_alert(connection: Connection, turn: Turn, patient_id: str, conversation_id: str) -> list[str]:
    """Store the crisis response's Flag and Communication (naming the conversation) when the patient is in the
    FHIR store."""
    from medai.store.clinical import get_resource
    from medai.store.ingest import prepare, write

    response = turn.crisis
    if response is None or response.flag is None:
        return []
    try:
        get_resource(connection, "Patient", patient_id)
    except NotFound:
        return []
    named = {"identifier": [{"system": CONVERSATION_SYSTEM, "value": conversation_id}]}
    items = [{**response.flag, **named}] + ([{**response.communication, **named}] if response.communication else [])
    return write(connection, prepare(connection, [(f"{r['resourceType']}/{r['id']}", None, r) for r in items])).written


@dataclass
class ConversationService:
    """Conversations of patients over ``engine``; ``manager`` answers, ``retention_days`` is the default retention."""

    engine: Engine
    manager: DialogueManager
    retention_days: int = store.DEFAULT_RETENTION_DAYS
    transient: OrderedDict = field(default_factory=OrderedDict)

    @property
    def consent_version(self) -> str:
        """The version of the consent text patients agree to now."""
        return load_messages().consent.version

    def warm_up(self) -> threading.Thread | None:
        """Load the shipped crisis screen (model and sentence encoder, ~17 s on CPU) and the intent embeddings in
        a daemon thread, so the first patient message does not wait for them; returns the thread, or None when
        the manager screens with a screener it was given (nothing to load). A failure is logged, never raised:
        the first message then loads (or falls back to the rules) as it would have."""
        if self.manager.screener is not None:
            return None
        thread = threading.Thread(target=_warm, args=(self.manager,), name="assistant-warm-up", daemon=True)
        thread.start()
        return thread

    # -- consent -------------------------------------------------------------------------------

    def consent(self, patient_id: str) -> dict:
        """The consent text and version, and the patient's latest decision."""
        consent = load_messages().consent
        with self.engine.connect() as connection:
            latest = store.latest_consent(connection, patient_id)
        return {"version": consent.version, "text": consent.text, "latest": latest,
                "storing": bool(latest and latest["granted"] and latest["version"] == consent.version),
                "default_retention_days": self.retention_days}

    def set_consent(self, actor: Actor, granted: bool, retention_days: int | None = None,
                    delete_stored: bool = False) -> dict:
        """Record a decision; withdrawing can also delete every stored conversation of the patient."""
        now = _now()
        with self.engine.begin() as connection:
            record = store.record_consent(connection, actor.patient_id, granted, self.consent_version, actor.username, now,
                                          retention_days or self.retention_days)
            deleted = 0
            if not granted and delete_stored:
                for conversation in store.list_conversations(connection, actor.patient_id, limit=100_000):
                    store.delete_conversation(connection, conversation["id"])
                    self.transient.pop(conversation["id"], None)
                    deleted += 1
            append_in(connection, AuditEvent(actor.username, actor.role, "assistant.consent", patient_id=actor.patient_id,
                                             detail={"granted": granted, "version": record["version"],
                                                     "retention_days": record["retention_days"], "deleted": deleted}))
        return {**record, "deleted_conversations": deleted}

    # -- conversations -------------------------------------------------------------------------

    def start(self, actor: Actor, consent: bool | None = None, locale: str | None = None,
              retention_days: int | None = None) -> dict:
        """Open a conversation (recording the consent decision when given); returns it with the opening message."""
        now = _now()
        state = ConversationState(locale=locale)
        opening = self.manager.opening()
        with self.engine.begin() as connection:
            current = store.storing_consent(connection, actor.patient_id, self.consent_version)
            if consent is not None and (bool(current) != consent or retention_days):
                store.record_consent(connection, actor.patient_id, consent, self.consent_version, actor.username, now,
                                     retention_days or self.retention_days)
                current = store.storing_consent(connection, actor.patient_id, self.consent_version)
            conversation = store.create_conversation(connection, actor.patient_id, now, current, locale, state.to_dict(),
                                                     self.retention_days)
            if current:
                store.add_messages(connection, conversation["id"], [_assistant_row(opening, None)], now)
            append_in(connection, AuditEvent(actor.username, actor.role, "assistant.start", patient_id=actor.patient_id,
                                             detail={"conversation": conversation["id"], "stored": bool(current)}))
        if not current:
            self._remember(conversation["id"], state)
        return {"conversation": conversation, "replies": [opening.to_dict()], "consent": current}

    def post(self, actor: Actor, conversation_id: str, text: str) -> dict:
        """Screen and answer one patient message; returns the turn and the conversation."""
        now = _now()
        with self.engine.begin() as connection:
            conversation = store.get_conversation(connection, conversation_id, with_state=True)
            consent = store.storing_consent(connection, conversation["patient_id"], self.consent_version)
            state = self._state(conversation)
            age, sex = _age_sex(connection, conversation["patient_id"], now.date())
            events: list[tuple[str, dict]] = []
            ctx = ChatContext(patient_id=conversation["patient_id"], actor=actor.username, role=actor.role, age=age, sex=sex,
                              now=now, connection=connection, audit=lambda action, detail: events.append((action, detail)))
            turn = self.manager.handle(state, text, ctx)
            written = _store_alert(connection, turn, conversation["patient_id"], conversation_id) if turn.alert else []
            for action, detail in events:
                append_in(connection, AuditEvent(actor.username, actor.role, action, patient_id=conversation["patient_id"],
                                                 detail={"conversation": conversation_id, **detail}))
            if turn.handoff:
                append_in(connection, AuditEvent(actor.username, actor.role, "assistant.handoff",
                                                 patient_id=conversation["patient_id"], detail={"conversation": conversation_id}))
            append_in(connection, AuditEvent(actor.username, actor.role, "assistant.message", patient_id=conversation["patient_id"],
                                             **_model(turn), detail={"conversation": conversation_id, "intent": turn.intent,
                                                                     "risk": turn.screen.risk, "conversation_risk": state.risk,
                                                                     "flagged": state.flagged, "stored": bool(consent),
                                                                     "alert": written}))
            if consent:
                rows = [{"sender": "patient", "kind": "message", "text": text, "risk": turn.screen.risk,
                         "screen": turn.screen.to_dict()}] + [_assistant_row(r, turn) for r in turn.replies]
                store.add_messages(connection, conversation_id, rows, now)
            store.update_conversation(connection, conversation_id, state.to_dict(), now, consent, self.retention_days,
                                      handoff=turn.handoff)
            updated = store.get_conversation(connection, conversation_id)
        if consent:
            self.transient.pop(conversation_id, None)
        else:
            self._remember(conversation_id, state)
        if turn.crisis is not None:
            audit_crisis(self.engine, turn.crisis, actor.username, actor.role, conversation["patient_id"], self.manager.identity())
        return {"conversation": updated, **turn.to_dict()}

    def history(self, conversation_id: str) -> dict:
        """A conversation's metadata and stored messages."""
        with self.engine.connect() as connection:
            conversation = store.get_conversation(connection, conversation_id)
            messages = store.conversation_messages(connection, conversation_id)
        return {"conversation": conversation, "messages": messages}

    def delete(self, conversation_id: str) -> None:
        """Delete a conversation, its messages and any state held in memory."""
        with self.engine.begin() as connection:
            store.get_conversation(connection, conversation_id)
            store.delete_conversation(connection, conversation_id)
        self.transient.pop(conversation_id, None)

    def purge(self, now: datetime | None = None) -> int:
        """Delete expired conversations (retention); returns how many."""
        with self.engine.begin() as connection:
            ids = {c["id"] for c in store.list_conversations(connection, limit=1_000_000)}
            count = store.purge_expired(connection, now or _now())
            remaining = {c["id"] for c in store.list_conversations(connection, limit=1_000_000)}
        for gone in ids - remaining:
            self.transient.pop(gone, None)
        return count

    # -- state ---------------------------------------------------------------------------------

    def _state(self, conversation: dict) -> ConversationState:
        if conversation.get("state") is not None:
            state = ConversationState.from_dict(conversation["state"])
        else:
            state = self.transient.get(conversation["id"]) or ConversationState(locale=conversation.get("locale"))
        # the stored columns are the floor: a conversation's risk and flag never go down
        state.risk = max_risk(state.risk, conversation["risk"])
        state.flagged = state.flagged or bool(conversation["flagged"])
        return state

    def _remember(self, conversation_id: str, state: ConversationState) -> None:
        self.transient[conversation_id] = state
        self.transient.move_to_end(conversation_id)
        while len(self.transient) > TRANSIENT_LIMIT:
            self.transient.popitem(last=False)


def _warm(manager: DialogueManager) -> None:
    try:
        manager.warm_up()
    except Exception as error:  # noqa: BLE001 - a warm-up failure must not take the service down
        log.warning("assistant warm-up failed (%s)", type(error).__name__)


def _assistant_row(reply: Reply, turn: Turn | None) -> dict:
    return {"sender": "assistant", "kind": reply.kind, "text": reply.text,
            "risk": turn.state.risk if turn else None,
            "payload": {"quick_replies": [q.__dict__ for q in reply.quick_replies], "data": reply.data}}


def _model(turn: Turn) -> dict:
    """The model behind a symptom assessment in this turn, for the audit record."""
    for reply in turn.replies:
        version = (reply.data.get("assessment") or {}).get("version")
        if version:
            return {"model_id": version.get("model_id"), "model_version": version.get("model_version")}
    return {}
