"""The chat layer's data files (``assets/knowledge/assistant/chat/``): intent rules and fixed messages,
validated by pydantic; errors name the file and the field."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import Field, field_validator

from medai.core.knowledge import Citation, Strict, parse_knowledge

FOLDER = "knowledge/assistant/chat"


class Intent(Strict):
    """One thing a patient can ask for, and the words that say it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=2)
    quick_reply: str | None = Field(default=None, description="Label of the menu button that starts this intent.")
    flow: str | None = Field(default=None, description="For mental-health intents: the flow id in mental/flows.yaml.")
    priority: int = Field(default=0, description="Breaks ties between intents with the same score.")
    interrupts: bool = Field(default=False, description="Whether it breaks into a running flow (stop, help).")
    whole_message: bool = Field(default=False, description="Phrases count only when they are the whole message.")
    phrases: list[str] = Field(min_length=1)
    patterns: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list, description="Sentences for embedding matching.")

    @field_validator("phrases")
    @classmethod
    def _lower(cls, phrases: list[str]) -> list[str]:
        return [p.lower().strip() for p in phrases]

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"pattern {pattern!r} does not compile: {error}") from None
        return patterns


class IntentFile(Strict):
    """The whole intents file."""

    version: str
    description: str
    semantic_threshold: float = Field(ge=0, le=1)
    intents: list[Intent] = Field(min_length=1)

    @field_validator("intents")
    @classmethod
    def _unique(cls, intents: list[Intent]) -> list[Intent]:
        ids = [i.id for i in intents]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"intent ids repeat: {repeated}")
        return intents

    def intent(self, intent_id: str) -> Intent:
        """The intent ``intent_id``; ``KeyError`` lists the known ones."""
        for intent in self.intents:
            if intent.id == intent_id:
                return intent
        raise KeyError(f"unknown intent {intent_id!r}; known: {', '.join(i.id for i in self.intents)}")


class Message(Strict):
    """A fixed message, with the sources of the facts it states."""

    text: str = Field(min_length=3)
    citations: list[Citation] = Field(default_factory=list)


class Consent(Strict):
    """The consent text a patient agrees to before messages are stored, and its version."""

    version: str = Field(min_length=1)
    text: str = Field(min_length=20)
    citation: Citation


class MessageFile(Strict):
    """The whole messages file."""

    version: str
    description: str
    references: dict[str, Citation] = Field(default_factory=dict)
    consent: Consent
    opening: Message
    help: Message
    fallback: Message
    greeting: Message
    stopped: Message
    after_crisis: Message
    handoff_requested: Message
    not_signed_in: Message


def _load(name: str, schema, path: str | Path | None):
    if path is not None:
        return parse_knowledge(Path(path).read_text(encoding="utf-8"), schema, str(path))
    text = resources.files("medai.assets").joinpath(f"{FOLDER}/{name}").read_text(encoding="utf-8")
    return parse_knowledge(text, schema, f"{FOLDER}/{name}")


@lru_cache(maxsize=4)
def load_intents(path: str | Path | None = None) -> IntentFile:
    """The shipped intent rules, or the file at ``path``."""
    return _load("intents.yaml", IntentFile, path)


@lru_cache(maxsize=4)
def load_messages(path: str | Path | None = None) -> MessageFile:
    """The shipped fixed messages, or the file at ``path``."""
    return _load("messages.yaml", MessageFile, path)
