"""Conversation storage: consent records, conversations (risk, flag, hand-off, dialogue state) and messages,
with retention. Everything runs in the caller's transaction.

Messages and the dialogue state are stored only while the patient's current consent is granted and of the
current version; without it only the conversation's metadata is kept (its risk and flag, so the care team
can act on a crisis). Each conversation expires ``retention_days`` after its last message (the patient's
choice in the consent, else the default); :func:`purge_expired` deletes expired ones with their messages.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, delete, func, insert, select, update

from medai.assistant.safety.types import max_risk
from medai.errors import InvalidInput, NotFound, Problem
from medai.store.schema import assistant_consents, assistant_conversations, assistant_messages

DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def check_retention(days: int) -> int:
    """``days`` if it is a usable retention period; ``InvalidInput`` naming ``retention_days`` otherwise."""
    if not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(Problem("retention_days", f"must be a whole number of days from 1 to {MAX_RETENTION_DAYS}", "value"))
    return days


# -- consent ------------------------------------------------------------------------------------

def record_consent(connection: Connection, patient_id: str, granted: bool, version: str, actor: str, now: datetime,
                   retention_days: int = DEFAULT_RETENTION_DAYS) -> dict:
    """Append a consent decision (granted or refused/withdrawn) with its time and version; returns it."""
    row = {"id": uuid.uuid4().hex, "patient_id": patient_id, "granted": bool(granted), "version": version,
           "retention_days": check_retention(retention_days), "recorded": now, "actor": actor}
    connection.execute(insert(assistant_consents), row)
    return consent_view(row)


def consent_view(row) -> dict:
    """A consent record as JSON values."""
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    return {**data, "recorded": _utc(data["recorded"]).isoformat()}


def latest_consent(connection: Connection, patient_id: str) -> dict | None:
    """The patient's most recent consent decision, or ``None``."""
    row = connection.execute(select(assistant_consents).where(assistant_consents.c.patient_id == patient_id)
                             .order_by(assistant_consents.c.recorded.desc(), assistant_consents.c.id.desc()).limit(1)).first()
    return consent_view(row) if row else None


def storing_consent(connection: Connection, patient_id: str, version: str) -> dict | None:
    """The consent under which messages may be stored now (latest, granted, current version), else ``None``."""
    consent = latest_consent(connection, patient_id)
    return consent if consent and consent["granted"] and consent["version"] == version else None


# -- conversations -------------------------------------------------------------------------------

def create_conversation(connection: Connection, patient_id: str, now: datetime, consent: dict | None,
                        locale: str | None, state: dict, default_retention: int = DEFAULT_RETENTION_DAYS) -> dict:
    """A new conversation; the dialogue state is kept only under ``consent``."""
    days = consent["retention_days"] if consent else default_retention
    row = {"id": uuid.uuid4().hex, "patient_id": patient_id, "created": now, "updated": now,
           "expires": now + timedelta(days=days), "consent_id": consent["id"] if consent else None, "locale": locale,
           "risk": state.get("risk", "none"), "flagged": bool(state.get("flagged")), "flagged_at": None, "handoff_at": None,
           "state": state if consent else None}
    connection.execute(insert(assistant_conversations), row)
    return conversation_view(row)


def conversation_view(row) -> dict:
    """A conversation's metadata as JSON values (the dialogue state is not included)."""
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    out = {k: v for k, v in data.items() if k != "state"}
    for key in ("created", "updated", "expires", "flagged_at", "handoff_at"):
        out[key] = _utc(out[key]).isoformat() if out.get(key) else None
    out["stored"] = data.get("state") is not None
    return out


def get_conversation(connection: Connection, conversation_id: str, with_state: bool = False) -> dict:
    """A conversation's metadata (and stored ``state`` when asked); ``NotFound`` otherwise."""
    row = connection.execute(select(assistant_conversations).where(assistant_conversations.c.id == conversation_id)).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id}")
    out = conversation_view(row)
    if with_state:
        out["state"] = row.state
    return out


def list_conversations(connection: Connection, patient_id: str | None = None, flagged_only: bool = False,
                       limit: int = 100) -> list[dict]:
    """Conversations, latest first: one patient's, and/or only flagged ones, each with its message count."""
    counts = (select(assistant_messages.c.conversation_id, func.count().label("messages"))
              .group_by(assistant_messages.c.conversation_id).subquery())
    query = (select(assistant_conversations, func.coalesce(counts.c.messages, 0).label("messages"))
             .outerjoin(counts, counts.c.conversation_id == assistant_conversations.c.id)
             .order_by(assistant_conversations.c.updated.desc()).limit(limit))
    if patient_id is not None:
        query = query.where(assistant_conversations.c.patient_id == patient_id)
    if flagged_only:
        query = query.where(assistant_conversations.c.flagged.is_(True))
    return [{**conversation_view(row), "messages": row.messages} for row in connection.execute(query)]


def next_seq(connection: Connection, conversation_id: str) -> int:
    """The sequence number of the conversation's next stored message."""
    last = connection.execute(select(func.max(assistant_messages.c.seq))
                              .where(assistant_messages.c.conversation_id == conversation_id)).scalar()
    return (last or 0) + 1


def add_messages(connection: Connection, conversation_id: str, messages: list[dict], now: datetime) -> None:
    """Store messages (``sender``, ``kind``, ``text``, optional ``risk``, ``screen``, ``payload``) in order."""
    seq = next_seq(connection, conversation_id)
    rows = [{"conversation_id": conversation_id, "seq": seq + i, "created": now, "sender": m["sender"], "kind": m["kind"],
             "text": m["text"], "risk": m.get("risk"), "screen": m.get("screen"), "payload": m.get("payload")}
            for i, m in enumerate(messages)]
    if rows:
        connection.execute(insert(assistant_messages), rows)


def update_conversation(connection: Connection, conversation_id: str, state: dict, now: datetime,
                        consent: dict | None, default_retention: int = DEFAULT_RETENTION_DAYS,
                        handoff: bool = False) -> None:
    """Save the risk and flag (never lowered), the state (only under consent) and the new expiry."""
    current = get_conversation(connection, conversation_id)
    days = consent["retention_days"] if consent else default_retention
    values = {"updated": now, "expires": now + timedelta(days=days), "risk": max_risk(current["risk"], state["risk"]),
              "flagged": bool(current["flagged"] or state.get("flagged")), "state": state if consent else None,
              "consent_id": consent["id"] if consent else None}
    if values["flagged"] and not current["flagged"]:
        values["flagged_at"] = now
    if handoff and not current["handoff_at"]:
        values["handoff_at"] = now
    connection.execute(update(assistant_conversations).where(assistant_conversations.c.id == conversation_id).values(**values))


def conversation_messages(connection: Connection, conversation_id: str) -> list[dict]:
    """The stored messages of a conversation, in order."""
    rows = connection.execute(select(assistant_messages).where(assistant_messages.c.conversation_id == conversation_id)
                              .order_by(assistant_messages.c.seq))
    return [{"seq": r.seq, "created": _utc(r.created).isoformat(), "sender": r.sender, "kind": r.kind, "text": r.text,
             "risk": r.risk, "screen": r.screen, "payload": r.payload} for r in rows]


def delete_conversation(connection: Connection, conversation_id: str) -> None:
    """Delete a conversation and its messages."""
    connection.execute(delete(assistant_messages).where(assistant_messages.c.conversation_id == conversation_id))
    connection.execute(delete(assistant_conversations).where(assistant_conversations.c.id == conversation_id))


def purge_expired(connection: Connection, now: datetime) -> int:
    """Delete every conversation whose retention has run out (with its messages); returns how many."""
    expired = [r.id for r in connection.execute(select(assistant_conversations.c.id)
                                                .where(assistant_conversations.c.expires <= now))]
    for start in range(0, len(expired), 500):
        chunk = expired[start:start + 500]
        connection.execute(delete(assistant_messages).where(assistant_messages.c.conversation_id.in_(chunk)))
        connection.execute(delete(assistant_conversations).where(assistant_conversations.c.id.in_(chunk)))
    return len(expired)
