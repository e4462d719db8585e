"""The crisis lexicon (``assets/knowledge/assistant/safety/crisis_lexicon.yaml``): schema and compiled rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from medai.assistant.safety.knowledge import Citation, Strict, load_assistant_knowledge
from medai.assistant.safety.types import Category, Risk

FILE = "safety/crisis_lexicon.yaml"
Kind = Literal["ideation", "intent", "plan", "means", "time", "act", "distress", "situation"]


class Negation(Strict):
    """Negation cues, pseudo-negations (cues that do not negate) and clause terminators."""

    window: int = Field(ge=1, le=12, description="Words before a match searched for a cue.")
    cues: list[str] = Field(min_length=1)
    pseudo: list[str] = Field(default_factory=list)
    terminators: list[str] = Field(default_factory=list)


class Rule(Strict):
    """One lexicon rule: patterns that mean the same thing, its category, kind and risk, and its source."""

    id: str = Field(pattern=r"^[a-z]+(\.[a-z_]+)+$")
    category: Category
    also: list[Category] = Field(default_factory=list, description="Further categories a match raises.")
    kind: Kind
    risk: Risk
    negatable: bool = Field(description="False for explicit intent, plans and acts: negation never lowers them.")
    patterns: list[str] = Field(min_length=1)
    citation: Citation

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
        return patterns

    @field_validator("risk")
    @classmethod
    def _not_none(cls, risk: Risk) -> Risk:
        if risk == "none":
            raise ValueError("a rule must raise some risk (low or above)")
        return risk


class Lexicon(Strict):
    """The whole lexicon file."""

    version: str = Field(min_length=1)
    description: str = Field(min_length=1)
    references: dict[str, Citation] = Field(default_factory=dict)
    negation: Negation
    rules: list[Rule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return rules

    @property
    def id(self) -> str:
        """``crisis-lexicon-<version>``, the name evidence and audit records carry."""
        return f"crisis-lexicon-{self.version}"


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The shipped lexicon, or the one at ``path`` (validated; errors name the file and field)."""
    return load_assistant_knowledge(FILE, Lexicon, path)


CompiledRules = tuple[tuple[Rule, tuple[re.Pattern[str], ...]], ...]
_compiled: dict[int, tuple[Lexicon, CompiledRules]] = {}


def compiled(lexicon: Lexicon) -> CompiledRules:
    """Each rule with its patterns compiled (case-insensitive); cached per lexicon object."""
    entry = _compiled.get(id(lexicon))
    if entry is None or entry[0] is not lexicon:
        rules = tuple((rule, tuple(re.compile(p, re.IGNORECASE) for p in rule.patterns)) for rule in lexicon.rules)
        entry = _compiled[id(lexicon)] = (lexicon, rules)
    return entry[1]
