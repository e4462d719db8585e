"""The crisis lexicon (``assets/knowledge/assistant/safety/crisis_lexicon.yaml``): schema and compiled rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from medai.assistant.safety.knowledge import Citation, Strict, load_assistant_knowledge
from medai.assistant.safety.types import Category, Risk

FILE = "safety/crisis_lexicon.yaml"
Kind = Literal["ideation", "intent", "plan", "means", "time", "act", "distress", "situation"]
FIRM_KINDS = frozenset({"intent", "plan", "means", "time", "act"})
"""Kinds a context (pseudo-trigger or informational damper) may never touch."""


def _valid_patterns(patterns: list[str]) -> list[str]:
    """``patterns`` unchanged, or an error naming the one that is not a valid regular expression."""
    for pattern in patterns:
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    return patterns


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
        return _valid_patterns(patterns)

    @field_validator("risk")
    @classmethod
    def _not_none(cls, risk: Risk) -> Risk:
        if risk == "none":
            raise ValueError("a rule must raise some risk (low or above)")
        return risk


class Context(Strict):
    """Words around a match that change its meaning: a pseudo-trigger ("cut myself shaving", ``effect: drop``)
    or an informational / third-person / past frame ("a documentary about suicide", ``effect: low``).

    A context acts only on matches of the ``rules`` it names (a rule id or an id prefix such as ``me``) whose
    span overlaps one of its own matches, and only on negatable ideation, distress or situation rules: it
    never touches explicit intent, plans, means, time frames or acts.
    """

    id: str = Field(pattern=r"^[a-z]+(\.[a-z_]+)+$")
    effect: Literal["drop", "low"]
    rules: list[str] = Field(min_length=1)
    patterns: list[str] = Field(min_length=1)
    citation: Citation

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return _valid_patterns(patterns)

    def applies_to(self, rule: Rule) -> bool:
        """Whether this context may act on matches of ``rule``."""
        return rule.negatable and rule.kind not in FIRM_KINDS and any(
            rule.id == target or rule.id.startswith(target + ".") for target in self.rules)


class Lexicon(Strict):
    """The whole lexicon file."""

    version: str = Field(min_length=1)
    description: str = Field(min_length=1)
    references: dict[str, Citation] = Field(default_factory=dict)
    negation: Negation
    rules: list[Rule] = Field(min_length=1)
    contexts: list[Context] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return rules

    @model_validator(mode="after")
    def _contexts_reach_soft_rules_only(self) -> Lexicon:
        for i, context in enumerate(self.contexts):
            for target in context.rules:
                named = [r for r in self.rules if r.id == target or r.id.startswith(target + ".")]
                if not named:
                    raise ValueError(f"contexts.{i}.rules: {target!r} names no rule")
                firm = [r.id for r in named if not context.applies_to(r)]
                if firm and len(firm) == len(named):
                    raise ValueError(f"contexts.{i}.rules: {target!r} names only rules a context may not touch "
                                     f"(non-negatable or intent/plan/means/time/act): {firm}")
        return self

    @property
    def id(self) -> str:
        """``crisis-lexicon-<version>``, the name evidence and audit records carry."""
        return f"crisis-lexicon-{self.version}"


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The shipped lexicon, or the one at ``path`` (validated; errors name the file and field)."""
    return load_assistant_knowledge(FILE, Lexicon, path)


CompiledRules = tuple[tuple[Rule, tuple[re.Pattern[str], ...]], ...]
CompiledContexts = tuple[tuple[Context, tuple[re.Pattern[str], ...]], ...]
_compiled: dict[int, tuple[Lexicon, CompiledRules, CompiledContexts]] = {}


def _compile(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def _entry(lexicon: Lexicon) -> tuple[Lexicon, CompiledRules, CompiledContexts]:
    entry = _compiled.get(id(lexicon))
    if entry is None or entry[0] is not lexicon:
        rules = tuple((rule, _compile(rule.patterns)) for rule in lexicon.rules)
        contexts = tuple((context, _compile(context.patterns)) for context in lexicon.contexts)
        entry = _compiled[id(lexicon)] = (lexicon, rules, contexts)
    return entry


def compiled(lexicon: Lexicon) -> CompiledRules:
    """Each rule with its patterns compiled (case-insensitive); cached per lexicon object."""
    return _entry(lexicon)[1]


def compiled_contexts(lexicon: Lexicon) -> CompiledContexts:
    """Each context with its patterns compiled (case-insensitive); cached per lexicon object."""
    return _entry(lexicon)[2]
