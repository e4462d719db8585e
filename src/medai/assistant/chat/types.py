"""What the dialogue manager works with: the conversation's state (JSON-serialisable, so it can be stored or
kept by a client), the context of one turn, and the replies it produces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from medai.assistant.safety.response import CrisisResponse
from medai.assistant.safety.types import ScreenResult


@dataclass(frozen=True)
class QuickReply:
    """A button under a reply: ``label`` is shown, ``value`` is sent as the next message."""

    label: str
    value: str


@dataclass
class Reply:
    """One assistant message: ``kind`` is opening, message, question, result, crisis, support or error."""

    text: str
    kind: str = "message"
    quick_replies: list[QuickReply] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON values."""
        return {"text": self.text, "kind": self.kind, "quick_replies": [asdict(q) for q in self.quick_replies],
                "data": self.data}


@dataclass
class ConversationState:
    """Everything the manager remembers between messages. The risk only ever rises; ``flagged`` never clears."""

    risk: str = "none"
    categories: list[str] = field(default_factory=list)
    flagged: bool = False
    alerted_risk: str = "none"
    alerted_categories: list[str] = field(default_factory=list)
    handoff_offered: bool = False
    handoff_requested: bool = False
    active: dict | None = None
    locale: str | None = None

    def to_dict(self) -> dict:
        """JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> ConversationState:
        """The state stored by :meth:`to_dict` (unknown keys are ignored)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass
class ChatContext:
    """Who is talking and what the turn may use: the patient (for appointments and medicines), a database
    connection inside the caller's transaction, and ``audit`` to record each read or change of patient data."""

    patient_id: str | None = None
    actor: str = "anonymous"
    role: str = "patient"
    age: float | None = None
    sex: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    connection: Connection | None = None
    audit: Callable[[str, dict], None] = lambda action, detail: None


@dataclass
class Outcome:
    """What a handler returns: replies, and a safety escalation it found (PHQ-9 item 9) for the manager."""

    replies: list[Reply]
    escalation: ScreenResult | None = None
    crisis: CrisisResponse | None = None


@dataclass
class Turn:
    """The result of one incoming message."""

    replies: list[Reply]
    screen: ScreenResult
    state: ConversationState
    intent: str | None = None
    crisis: CrisisResponse | None = None
    alert: bool = False
    handoff: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """Whether the conversation is flagged (now or earlier)."""
        return self.state.flagged

    def to_dict(self) -> dict:
        """JSON values: replies, this message's screen, the conversation's risk and flag."""
        return {"replies": [r.to_dict() for r in self.replies], "screen": self.screen.to_dict(), "intent": self.intent,
                "risk": self.state.risk, "flagged": self.state.flagged, "handoff": self.handoff,
                "crisis": _public_crisis(self.crisis)}


def _public_crisis(response: CrisisResponse | None) -> dict | None:
    """The crisis response as shown to the patient (the clinician alert resources are not echoed back)."""
    if response is None:
        return None
    out = response.to_dict()
    out.pop("alert", None)
    return out
