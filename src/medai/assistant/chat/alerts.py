"""The care team's view of crisis alerts: flagged conversations with their risk, categories, patient and
hand-off, and the active crisis ``Flag`` resources of a patient (one per conversation, the latest).

Categories come from the conversation's stored state when the patient agreed to storing it, else from the
alert resources (a conversation without consent keeps no state, but its Flag names the categories).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from medai.assistant.chat import store
from medai.assistant.chat.conversations import conversation_of
from medai.assistant.safety.response import CRISIS_SYSTEM, LABELS
from medai.errors import NotFound
from medai.store import clinical


@dataclass(frozen=True)
class Alert:
    """One flagged conversation as the care team sees it."""

    conversation: dict
    patient_name: str | None
    categories: tuple[str, ...]
    flag_id: str | None

    @property
    def category_labels(self) -> list[str]:
        """The categories in words ("suicide or self-harm", ...)."""
        return [LABELS.get(c, c) for c in self.categories]

    @property
    def handoff_requested(self) -> bool:
        """Whether the patient asked for a person from the care team to contact them."""
        return bool(self.conversation.get("handoff_at"))


def flag_categories(flag: dict) -> tuple[str, ...]:
    """The crisis categories a stored alert (Flag) names."""
    return tuple(c["code"] for c in (flag.get("code") or {}).get("coding", []) if c.get("system") == CRISIS_SYSTEM)


def is_crisis_flag(flag: dict) -> bool:
    """Whether a Flag was raised by the assistant's crisis screen."""
    return bool(flag_categories(flag)) or conversation_of(flag) is not None


def crisis_flags(connection: Connection, patient_id: str, active_only: bool = True) -> list[dict]:
    """The patient's crisis Flags, newest first, one per conversation (its latest)."""
    flags = [f for f in clinical.search(connection, "Flag", patient_id, limit=100_000)
             if is_crisis_flag(f) and (not active_only or f.get("status") == "active")]
    flags.sort(key=lambda f: (f.get("period") or {}).get("start", ""), reverse=True)
    seen: set[str] = set()
    latest = []
    for flag in flags:
        key = conversation_of(flag) or flag["id"]
        if key not in seen:
            seen.add(key)
            latest.append(flag)
    return latest


def patient_name(connection: Connection, patient_id: str) -> str | None:
    """The patient's name (given then family), or None when the patient is not in the FHIR store."""
    try:
        patient = clinical.get_resource(connection, "Patient", patient_id)
    except NotFound:
        return None
    name = (patient.get("name") or [{}])[0]
    return " ".join([*name.get("given", []), name.get("family", "")]).strip() or name.get("text")


def alert_of(connection: Connection, conversation: dict, flags: list[dict] | None = None,
             names: dict[str, str | None] | None = None) -> Alert:
    """The alert view of one flagged conversation (``flags`` and ``names`` are caches over several)."""
    patient_id = conversation["patient_id"]
    if flags is None:
        flags = crisis_flags(connection, patient_id, active_only=False)
    flag = next((f for f in flags if conversation_of(f) == conversation["id"]), None)
    state = store.get_conversation(connection, conversation["id"], with_state=True).get("state") or {}
    categories = tuple(state.get("categories") or ()) or (flag_categories(flag) if flag else ())
    name = names[patient_id] if names is not None and patient_id in names else patient_name(connection, patient_id)
    return Alert(conversation, name, categories, flag["id"] if flag else None)


def flagged_alerts(connection: Connection, limit: int = 200) -> list[Alert]:
    """The flagged conversations, latest first, as alerts."""
    conversations = store.list_conversations(connection, flagged_only=True, limit=limit)
    flags: dict[str, list[dict]] = {}
    names: dict[str, str | None] = {}
    out = []
    for conversation in conversations:
        patient_id = conversation["patient_id"]
        if patient_id not in flags:
            flags[patient_id] = crisis_flags(connection, patient_id, active_only=False)
            names[patient_id] = patient_name(connection, patient_id)
        out.append(alert_of(connection, conversation, flags[patient_id], names))
    return out


def conversation_resources(connection: Connection, patient_id: str, conversation_id: str, resource_type: str) -> list[dict]:
    """The alert resources (``Flag`` or ``Communication``) stored for one conversation, oldest first."""
    found = [r for r in clinical.search(connection, resource_type, patient_id, limit=100_000)
             if conversation_of(r) == conversation_id]
    return sorted(found, key=lambda r: r.get("sent") or (r.get("period") or {}).get("start", ""))
