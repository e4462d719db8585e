"""Crisis resources per locale (``assets/knowledge/assistant/safety/crisis_resources.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from medai.assistant.safety.knowledge import Citation, Strict, load_assistant_knowledge
from medai.assistant.safety.types import Category

FILE = "safety/crisis_resources.yaml"


class Resource(Strict):
    """One service: what to do, how to reach it, which crises it serves, and where the facts come from."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=2)
    action: str = Field(min_length=5)
    contact: str = Field(min_length=2)
    channel: Literal["call", "text", "chat", "call_text", "call_text_chat"]
    categories: list[Category] = Field(default_factory=list, description="Empty: shown for every category.")
    citation: Citation

    def serves(self, categories: tuple[str, ...]) -> bool:
        """Whether the resource is shown for a crisis in ``categories``."""
        return not self.categories or not categories or any(c in self.categories for c in categories)


class Locale(Strict):
    """The resources of one country."""

    name: str
    emergency_number: str = Field(min_length=2)
    resources: list[Resource] = Field(min_length=1)


class Messages(Strict):
    """The words of a crisis response in one locale (``{emergency_number}`` is filled in)."""

    crisis: str
    imminent: str
    handoff: str
    low: str


class ResourceFile(Strict):
    """The whole resources file."""

    version: str
    description: str
    default_locale: str
    references: dict[str, Citation] = Field(default_factory=dict)
    locales: dict[str, Locale] = Field(min_length=1)
    messages: dict[str, Messages]

    @model_validator(mode="after")
    def _complete(self) -> ResourceFile:
        if self.default_locale not in self.locales:
            raise ValueError(f"default_locale {self.default_locale!r} is not among locales {sorted(self.locales)}")
        missing = sorted(set(self.locales) - set(self.messages))
        if missing:
            raise ValueError(f"messages missing for locales {missing}")
        return self

    def locale(self, code: str | None) -> tuple[str, Locale]:
        """The locale for ``code`` (``en-GB``, ``GB`` or ``gb``); the default one when unknown or absent."""
        key = (code or "").replace("_", "-").split("-")[-1].upper()
        key = "GB" if key == "UK" else key
        return (key, self.locales[key]) if key in self.locales else (self.default_locale, self.locales[self.default_locale])


def load_resources(path: str | Path | None = None) -> ResourceFile:
    """The shipped crisis resources, or the file at ``path`` (validated)."""
    return load_assistant_knowledge(FILE, ResourceFile, path)
