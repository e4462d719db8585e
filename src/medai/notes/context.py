"""ConText-style assertion status of condition mentions: negated, uncertain, historical, family, hypothetical.

The algorithm is NegEx (Chapman et al. 2001) generalised as ConText (Harkema et al. 2009):
trigger phrases open a *scope* forward (``no``), backward (``ruled out``) or both ways, up to a
window of words, the sentence end or a *termination* phrase (``but``); *pseudo-triggers*
(``no increase``, ``not only``) are matched first and block the triggers they contain. Each
group (negation, history, hypothetical, experiencer) is matched in its own pass, longest phrase
first. All phrases live in ``assets/knowledge/notes/context_rules.yaml`` (validated by
:class:`ContextRules`, each block citing its source). Every result carries the trigger spans
that caused it (:class:`Evidence`).

In whole notes (:func:`assert_spans`) the section a mention sits in adds defaults: mentions in
FAMILY HISTORY are ``family``, in PAST MEDICAL/SURGICAL HISTORY ``historical`` (see
:mod:`medai.notes.sections`).

>>> assert_target("No evidence of pneumonia.", "pneumonia")
'negated'
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, model_validator

from medai.core.knowledge import Citation, KnowledgeFile, Strict, parse_knowledge

RULES_FILE = "knowledge/notes/context_rules.yaml"
Schema = TypeVar("Schema", bound=KnowledgeFile)
Category = Literal["negated", "uncertain", "historical", "hypothetical", "family"]
Group = Literal["negation", "history", "hypothetical", "experiencer"]
Kind = Literal["forward", "backward", "bidirectional", "pseudo", "terminate"]
CATEGORIES: tuple[Category, ...] = ("negated", "uncertain", "historical", "hypothetical", "family")
#: Order in which a single label is chosen when several categories apply.
PRIORITY: tuple[Category, ...] = ("negated", "family", "hypothetical", "uncertain", "historical")
GROUP_CATEGORIES: dict[str, tuple[str, ...]] = {"negation": ("negated", "uncertain"), "history": ("historical",),
                                                "hypothetical": ("hypothetical",), "experiencer": ("family",)}
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


class RuleBlock(Strict):
    """Phrases of one group sharing a kind, a category, a window and a source."""

    group: Group
    kind: Kind
    category: Category | None = Field(default=None, description="Set for triggers; absent for pseudo and terminate.")
    window: int | None = Field(default=None, ge=1, le=50, description="Scope in words; default: the category's window.")
    source: str = Field(description="A key of the file's ``sources``.")
    note: str | None = None
    literals: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list, description="Regular expressions, matched case-insensitively.")

    @model_validator(mode="after")
    def _consistent(self) -> RuleBlock:
        is_trigger = self.kind in ("forward", "backward", "bidirectional")
        if is_trigger != (self.category is not None):
            raise ValueError("triggers need a category; pseudo and terminate blocks must not have one")
        if is_trigger and self.category not in GROUP_CATEGORIES[self.group]:
            raise ValueError(f"category {self.category} does not belong to group {self.group}")
        if not self.literals and not self.patterns:
            raise ValueError("a block needs literals or patterns")
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"bad pattern {pattern!r}: {error}") from None
        return self


class ContextRules(KnowledgeFile):
    """The rule file: citations, default windows per category, and the phrase blocks."""

    sources: dict[str, Citation]
    windows: dict[Category, int] = Field(description="Default scope (words) of each category's triggers.")
    rules: list[RuleBlock] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> ContextRules:
        seen: dict[tuple[str, str], int] = {}
        for i, block in enumerate(self.rules):
            if block.source not in self.sources:
                raise ValueError(f"rules[{i}]: source {block.source!r} is not in sources")
            for literal in block.literals:
                key = (block.group, _normalise(literal))
                if key in seen:
                    raise ValueError(f"rules[{i}]: {literal!r} already in rules[{seen[key]}] of group {block.group}")
                seen[key] = i
        missing = set(CATEGORIES) - set(self.windows)
        if missing:
            raise ValueError(f"windows lacks {sorted(missing)}")
        return self


@dataclass(frozen=True)
class Evidence:
    """The span that caused an assertion: a trigger phrase or a section header, with its rule and source."""

    category: str
    start: int
    end: int
    text: str
    rule: str
    source: str


@dataclass(frozen=True)
class Assertion:
    """Assertion of one mention ``[start, end)``: one boolean per category and the evidence for each."""

    start: int
    end: int
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    evidence: tuple[Evidence, ...] = ()

    @property
    def status(self) -> str:
        """One label: the first true category in :data:`PRIORITY`, else ``affirmed``."""
        return next((c for c in PRIORITY if getattr(self, c)), "affirmed")

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"start": self.start, "end": self.end, "status": self.status,
                **{c: getattr(self, c) for c in CATEGORIES},
                "evidence": [e.__dict__ for e in self.evidence]}


@dataclass(frozen=True)
class _Rule:
    kind: str
    category: str | None
    window: int
    text: str
    source: str


@dataclass(frozen=True)
class Trigger:
    """One matched phrase in a sentence (offsets relative to the sentence)."""

    start: int
    end: int
    rule: _Rule


@dataclass
class _GroupMatcher:
    """One group's phrases: literals in one alternation (longest first), regex rules in another."""

    literals: dict[str, _Rule]
    patterns: list[_Rule]
    fast: re.Pattern[str]          # literals, matched on the lower-cased sentence
    slow: re.Pattern[str]          # the same, case-insensitive, for text whose lower-casing changes its length
    pattern_regex: re.Pattern[str] | None

    @classmethod
    def build(cls, literals: dict[str, _Rule], patterns: list[_Rule]) -> _GroupMatcher:
        ordered = sorted(literals, key=len, reverse=True)
        word = "|".join(_literal_regex(lit) for lit in ordered if lit[0].isalnum() or lit[0] == "_")
        other = "|".join(_literal_regex(lit) for lit in ordered if not (lit[0].isalnum() or lit[0] == "_"))
        parts = ([rf"\b(?:{word})"] if word else []) + ([other] if other else [])
        body = "|".join(parts) or r"(?!)"
        fast = re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")
        slow = re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)
        alternatives = "|".join(f"(?P<p{i}>{rule.text})" for i, rule in enumerate(patterns))
        pattern_regex = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE) if patterns else None
        return cls(literals, patterns, fast, slow, pattern_regex)

    def matches(self, sentence: str) -> list[Trigger]:
        """Non-overlapping matches, leftmost first and longest at the same start."""
        lower = sentence.lower()
        regex, text = (self.fast, lower) if len(lower) == len(sentence) else (self.slow, sentence)
        found = [Trigger(m.start(), m.end(), self.literals[_normalise(m.group(0))]) for m in regex.finditer(text)]
        if self.pattern_regex is None:
            return found
        found += [Trigger(m.start(), m.end(), self.patterns[int(m.lastgroup[1:])])
                  for m in self.pattern_regex.finditer(sentence)]
        kept: list[Trigger] = []
        for trigger in sorted(found, key=lambda t: (t.start, t.start - t.end)):
            if not kept or trigger.start >= kept[-1].end:
                kept.append(trigger)
        return kept


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _literal_regex(literal: str) -> str:
    return r"\s+".join(re.escape(part) for part in literal.split())


class ContextEngine:
    """Compiled rules: per group, one alternation of phrases (longest first) and one of regex rules."""

    def __init__(self, rules: ContextRules):
        self.rules = rules
        self._groups = {group: self._compile(group) for group in GROUP_CATEGORIES}

    def _compile(self, group: str) -> _GroupMatcher:
        literals: dict[str, _Rule] = {}
        patterns: list[_Rule] = []
        for block in self.rules.rules:
            if block.group != group:
                continue
            window = block.window or (self.rules.windows[block.category] if block.category else 0)
            for literal in block.literals:
                literals[_normalise(literal)] = _Rule(block.kind, block.category, window, literal, block.source)
            patterns += [_Rule(block.kind, block.category, window, pattern, block.source) for pattern in block.patterns]
        return _GroupMatcher.build(literals, patterns)

    def triggers(self, sentence: str) -> dict[str, list[Trigger]]:
        """Non-overlapping phrase matches per group in ``sentence``, pseudo-triggers and terminations included."""
        return {group: matcher.matches(sentence) for group, matcher in self._groups.items()}

    def modifiers(self, sentence: str, start: int, end: int,
                  triggers: dict[str, list[Trigger]] | None = None) -> list[Evidence]:
        """Evidence for every category whose trigger scope covers the target ``sentence[start:end]``.

        Pass ``triggers`` (from :meth:`triggers`) to reuse one sentence's matches for several targets."""
        triggers = self.triggers(sentence) if triggers is None else triggers
        words = [(m.start(), m.end()) for m in _WORD.finditer(sentence)]
        word_starts = [s for s, _ in words]
        found: list[Evidence] = []
        for matches in triggers.values():
            stops = [t for t in matches if t.rule.kind == "terminate"]
            for trigger in matches:
                rule = trigger.rule
                if rule.category is None or (trigger.start < end and trigger.end > start):
                    continue
                if _in_scope(trigger, start, end, stops, words, word_starts, len(sentence)):
                    found.append(Evidence(rule.category, trigger.start, trigger.end,
                                          sentence[trigger.start:trigger.end], rule.text, rule.source))
        return found


def _in_scope(trigger: Trigger, start: int, end: int, stops: list[Trigger], words: list[tuple[int, int]],
              word_starts: list[int], length: int) -> bool:
    """Whether the target ``[start, end)`` overlaps the trigger's scope."""
    rule = trigger.rule
    if rule.kind in ("forward", "bidirectional") and start >= trigger.end:
        i = bisect_left(word_starts, trigger.end)
        limit = words[i + rule.window - 1][1] if i + rule.window - 1 < len(words) else length
        limit = min([limit] + [s.start for s in stops if s.start >= trigger.end])
        if start < limit:
            return True
    if rule.kind in ("backward", "bidirectional") and end <= trigger.start:
        i = bisect_right(word_starts, trigger.start - 1) - 1  # last word starting before the trigger
        first = words[i - rule.window + 1][0] if i - rule.window + 1 >= 0 else 0
        first = max([first] + [s.end for s in stops if s.end <= trigger.start])
        if end > first:
            return True
    return False


def read_rules(file: str, schema: type[Schema], path: str | Path | None = None) -> Schema:
    """A notes rule file validated by ``schema``: the shipped ``assets/<file>``, or the user's file at ``path``."""
    if path is not None:
        return parse_knowledge(Path(path).read_text(encoding="utf-8"), schema, str(path))
    return parse_knowledge(resources.files("medai.assets").joinpath(file).read_text(encoding="utf-8"), schema, file)


def load_rules(path: str | Path | None = None) -> ContextRules:
    """The shipped rule file, or a user's file in the same schema (validated; errors name the field)."""
    return read_rules(RULES_FILE, ContextRules, path)


@lru_cache(maxsize=1)
def default_engine() -> ContextEngine:
    """The engine over the shipped rules (compiled once)."""
    return ContextEngine(load_rules())


def find_target(sentence: str, target: str) -> tuple[int, int] | None:
    """Where ``target`` occurs in ``sentence`` (case- and whitespace-insensitive).

    Among several occurrences one written in capitals wins when the target is not (how the NegEx kit
    marks its targets), then the exact-case one, then the first.
    """
    words = target.split()
    if not words:
        return None
    found = [m.span() for m in re.finditer(r"(?<!\w)" + _literal_regex(target) + r"(?!\w)", sentence, re.IGNORECASE)]
    if not found:
        return None
    exact = [s for s in found if " ".join(sentence[s[0]:s[1]].split()) == " ".join(words)]
    marked = [s for s in found if sentence[s[0]:s[1]].isupper()] if not (target.isupper() or sentence.isupper()) else []
    return (marked or exact or found)[0]


def assert_in_sentence(sentence: str, start: int, end: int, engine: ContextEngine | None = None) -> Assertion:
    """Assertion of the mention ``sentence[start:end]`` from the triggers of its own sentence."""
    return _assertion(start, end, (engine or default_engine()).modifiers(sentence, start, end))


def assert_target(sentence: str, target: str) -> str:
    """The assertion status of ``target`` in ``sentence``: ``affirmed``, ``negated``, ``uncertain``,
    ``historical``, ``family`` or ``hypothetical``. A target not found in the sentence is ``affirmed``."""
    span = find_target(sentence, target)
    if span is None:
        return "affirmed"
    return assert_in_sentence(sentence, *span).status


def _assertion(start: int, end: int, evidence: list[Evidence]) -> Assertion:
    flags = {c: any(e.category == c for e in evidence) for c in CATEGORIES}
    return Assertion(start, end, evidence=tuple(evidence), **flags)


def assert_spans(text: str, spans: list[tuple[int, int]], *, use_sections: bool = True,
                 engine: ContextEngine | None = None) -> list[Assertion]:
    """Assertions of the mentions ``text[start:end]`` of a whole note, in the order given.

    Each mention is judged by the triggers of its own sentence (:mod:`medai.notes.sentences`);
    with ``use_sections`` a mention in a section with a default (FAMILY HISTORY -> family,
    PAST MEDICAL/SURGICAL HISTORY -> historical) gets it too, its evidence being the header.
    Evidence offsets are offsets into ``text``.
    """
    from medai.notes.sections import detect, section_at
    from medai.notes.sentences import SentenceIndex

    engine = engine or default_engine()
    index = SentenceIndex(text)
    sections = detect(text) if use_sections else []
    cache: dict[tuple[int, int], dict[str, list[Trigger]]] = {}
    out = []
    for start, end in spans:
        if not 0 <= start < end <= len(text):
            raise ValueError(f"span ({start}, {end}) is not inside the text of length {len(text)}")
        s0, s1 = index.span_of(start, end)
        sentence = text[s0:s1]
        if (s0, s1) not in cache:
            cache[(s0, s1)] = engine.triggers(sentence)
        evidence = [Evidence(e.category, e.start + s0, e.end + s0, e.text, e.rule, e.source)
                    for e in engine.modifiers(sentence, start - s0, end - s0, cache[(s0, s1)])]
        section = section_at(sections, start)
        if section is not None and section.assertion and start >= section.start:
            evidence.append(Evidence(section.assertion, section.header_start, section.header_end, section.header,
                                     f"section:{section.name}", "sections"))
        out.append(_assertion(start, end, evidence))
    return out
