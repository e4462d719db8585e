"""Rule-based PHI detection from the versioned ``rules.yaml`` (patterns and context rules as data).

>>> detector = RuleDetector()                                       # doctest: +SKIP
>>> [(s.text, s.type.value, s.source) for s in detector.find("Dr. Jones saw him 8/23.")]  # doctest: +SKIP
[('Jones', 'NAME', 'rule:name-after-title'), ('8/23', 'DATE', 'rule:date-numeric')]
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from medai.errors import InvalidInput, Problem
from medai.privacy.lexicons import Lexicons, knowledge_dir, load_lexicons
from medai.privacy.phi import PHISpan, PHIType

_MACRO = re.compile(r"\{([A-Z]+)\}")
_FIRST_GAP = re.compile(r"[ \t]*[,:(-]?[ \t]*")
_NEXT_GAP = re.compile(r"[ \t]+")
NAME_PAIR = "lexicon:name-pair"
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*\.?")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatternRule(_Strict):
    """A regular expression whose match (or named group ``phi``/``phi2``) is PHI of ``type``."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    type: PHIType
    pattern: str
    ignore_case: bool = False
    score: float = Field(default=1.0, gt=0, le=1)
    standalone: bool = Field(default=True, description="False: the hit only informs the learned tagger.")
    rules_only: bool = Field(default=True, description="Whether the hit redacts when no tagger runs.")
    citation: str = Field(min_length=3)
    description: str = ""
    examples: list[str] = Field(min_length=1)
    counter_examples: list[str] = Field(default_factory=list)


class ContextRule(_Strict):
    """A trigger (title, credential, facility word) and up to ``max_tokens`` words beside it."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    type: PHIType
    direction: Literal["after", "before"]
    max_tokens: int = Field(ge=1, le=4)
    first_token_any: bool
    include_trigger: bool = Field(default=False, description="The trigger is part of the PHI (an initial).")
    ignore_case: bool = True
    standalone: bool = Field(default=True, description="False: the hit only informs the learned tagger.")
    rules_only: bool = Field(default=True, description="Whether the hit redacts when no tagger runs.")
    trigger: str
    citation: str = Field(min_length=3)
    examples: list[str] = Field(min_length=1)


class RuleSet(_Strict):
    """``rules.yaml``: every pattern compiles, every example matches, no counter-example matches."""

    version: str
    citation: str
    macros: dict[str, str] = Field(default_factory=dict)
    rules: list[PatternRule] = Field(min_length=1)
    context_rules: list[ContextRule] = Field(default_factory=list)
    stopwords: list[str] = Field(default_factory=list)

    def expand(self, pattern: str) -> str:
        """``pattern`` with its ``{MACRO}`` names replaced."""
        return _MACRO.sub(lambda m: self.macros[m.group(1)] if m.group(1) in self.macros else m.group(0), pattern)

    def compiled(self, rule: PatternRule | ContextRule) -> re.Pattern:
        """The compiled pattern (or trigger) of a rule."""
        source = rule.pattern if isinstance(rule, PatternRule) else rule.trigger
        flags = re.IGNORECASE if rule.ignore_case else 0
        return re.compile(self.expand(source), flags)

    @model_validator(mode="after")
    def _check_rules(self) -> RuleSet:
        ids = [r.id for r in (*self.rules, *self.context_rules)]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        problems = []
        for rule in (*self.rules, *self.context_rules):
            try:
                regex = self.compiled(rule)
            except re.error as exc:
                problems.append(f"rule {rule.id}: pattern does not compile ({exc})")
                continue
            if isinstance(rule, PatternRule):
                missed = [e for e in rule.examples if not regex.search(e)]
                wrong = [e for e in rule.counter_examples if _phi_matches(regex, e)]
                if missed or wrong:
                    problems.append(f"rule {rule.id}: examples not matched {missed}, counter-examples matched {wrong}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _phi_matches(regex: re.Pattern, text: str) -> list[tuple[int, int]]:
    """(start, end) of the PHI part of every match: group ``phi``/``phi2`` when present, else the match."""
    out = []
    for match in regex.finditer(text):
        groups = match.groupdict()
        name = next((g for g in ("phi", "phi2") if groups.get(g) is not None), None)
        start, end = match.span(name) if name else match.span()
        if end > start:
            out.append((start, end))
    return out


def read_rules(path: str | Path) -> RuleSet:
    """Validate a rules file; ``InvalidInput`` names the rule and field of each problem."""
    path = Path(path)
    try:
        return RuleSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise InvalidInput([Problem(f"{path.name}: {'.'.join(map(str, e['loc'])) or 'rules'}", e["msg"])
                            for e in exc.errors()]) from exc


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> RuleSet:
    """The shipped (or given) rule set, validated once."""
    return read_rules(path or knowledge_dir() / "rules.yaml")


class RuleDetector:
    """Finds PHI with the pattern rules and the context rules of a :class:`RuleSet`."""

    def __init__(self, rules: RuleSet | None = None, lexicons: Lexicons | None = None):
        self.rules = rules or load_rules()
        self.lexicons = lexicons or load_lexicons()

    @cached_property
    def _patterns(self) -> list[tuple[PatternRule, re.Pattern]]:
        return [(rule, self.rules.compiled(rule)) for rule in self.rules.rules]

    @cached_property
    def _contexts(self) -> list[tuple[ContextRule, re.Pattern]]:
        return [(rule, self.rules.compiled(rule)) for rule in self.rules.context_rules]

    @cached_property
    def _stop(self) -> frozenset[str]:
        return frozenset(w.lower() for w in self.rules.stopwords)

    @cached_property
    def weak_sources(self) -> frozenset[str]:
        """``rule:<id>`` of the rules whose hits only inform the tagger (``standalone: false``)."""
        return frozenset(f"rule:{r.id}" for r in (*self.rules.rules, *self.rules.context_rules) if not r.standalone)

    @cached_property
    def rules_only_sources(self) -> frozenset[str]:
        """``rule:<id>`` of the rules that redact when no tagger runs (``rules_only: true``)."""
        return frozenset(f"rule:{r.id}" for r in (*self.rules.rules, *self.rules.context_rules) if r.rules_only)

    def is_standalone(self, span: PHISpan, with_tagger: bool = True) -> bool:
        """Whether a hit redacts on its own: with the tagger, if its rule is standalone; without it,
        if its rule says ``rules_only`` (weak rules then redact too, for recall). Lexicon hits never do."""
        if span.source == NAME_PAIR:
            return True
        if span.source.startswith("lexicon:"):
            return False
        return span.source not in self.weak_sources if with_tagger else span.source in self.rules_only_sources

    def weak_hits(self, hits: list[PHISpan]) -> list[PHISpan]:
        """The hits of rules that only inform the tagger (lexicon hits excluded)."""
        return [h for h in hits if not self.is_standalone(h) and not h.source.startswith("lexicon:")]

    def find_standalone(self, text: str) -> list[PHISpan]:
        """The hits of the rules that redact on their own."""
        return [s for s in self.find(text) if self.is_standalone(s)]

    def find_places(self, text: str) -> list[PHISpan]:
        """Sequences of 2-3 words that name a U.S. place (``lexicon:place``; informs the tagger only)."""
        words = list(_WORD.finditer(text))
        out = []
        for i in range(len(words)):
            for n in (3, 2):
                group = words[i:i + n]
                if len(group) < n or any(not re.fullmatch(r"[ \t]+", text[a.end():b.start()]) for a, b in zip(group, group[1:])):
                    continue
                phrase = " ".join(w.group().rstrip(".").lower() for w in group)
                if phrase in self.lexicons.us_places:
                    start, end = group[0].start(), group[-1].start() + len(group[-1].group().rstrip("."))
                    out.append(PHISpan(start, end, PHIType.LOCATION, text[start:end], "lexicon:place", 0.5))
                    break
        return out

    def _plain_name(self, word: str) -> bool:
        low = word.rstrip(".").lower()
        lex = self.lexicons
        return (len(low) > 1 and low not in self._stop and low not in lex.common_words and low not in lex.clinical_terms
                and low not in lex.clinical_vocabulary)

    def find_name_pairs(self, text: str) -> list[PHISpan]:
        """A census first name followed by a census name, optionally with an initial between ("carol wolfe",
        "DAN A. FORMAN-LYONS"), neither a stop, common or clinical word (``lexicon:name-pair``, standalone)."""
        lex = self.lexicons
        words = list(_WORD.finditer(text))
        mixed_case = is_mixed_case(text)
        out = []
        for i, first in enumerate(words[:-1]):
            word = first.group().rstrip(".")
            if (len(word) < 3 or word.lower() not in lex.first_names or not self._plain_name(word)
                    or first.group().endswith(".") or (mixed_case and not word[0].isupper())):
                continue
            j = i + 1
            if len(words[j].group().rstrip(".")) == 1 and j + 1 < len(words):
                j += 1  # a middle initial
            gaps = text[first.end():words[j].start()]
            last = words[j].group().rstrip(".")
            if (len(last) < 3 or not re.fullmatch(r"[ \t]+(?:[A-Za-z]\.?[ \t]+)?", gaps) or not lex.is_name(last)
                    or not self._plain_name(last) or last.isupper() != word.isupper() or last.islower() != word.islower()
                    or (mixed_case and not last[0].isupper())):
                continue
            end = words[j].start() + len(last)
            out.append(PHISpan(first.start(), end, PHIType.NAME, text[first.start():end], NAME_PAIR, 0.8))
        return out

    def find(self, text: str) -> list[PHISpan]:
        """Every rule hit in ``text``, unmerged (a span may be found by several rules)."""
        spans = [PHISpan(s, e, rule.type, text[s:e], f"rule:{rule.id}", rule.score)
                 for rule, regex in self._patterns for s, e in _phi_matches(regex, text)]
        spans += self.find_places(text)
        spans += self.find_name_pairs(text)
        mixed_case = is_mixed_case(text)
        for rule, regex in self._contexts:
            for match in regex.finditer(text):
                words = self._context_words(text, match, rule, mixed_case)
                if words:
                    if rule.include_trigger:
                        words.append((match.start(), match.end()))
                    s, e = min(w[0] for w in words), max(w[1] for w in words)
                    spans.append(PHISpan(s, e, rule.type, text[s:e], f"rule:{rule.id}", 0.9))
        return spans

    def _context_words(self, text: str, match: re.Match, rule: ContextRule, mixed_case: bool = False
                       ) -> list[tuple[int, int]]:
        """The name-like words beside a trigger, nearest first, stopping at the first that fails.

        A rule that takes any first word (a title: "Dr.", "Ms.") needs it right after the trigger, without a
        comma ("MR, CAD" is mitral regurgitation), and capitalised or a census name in a normally capitalised
        note ("monitor ms. replete lytes" is mental status; "dr. anne aware" is a name)."""
        if rule.direction == "after":
            words = _words_after(text, match.end())
            if rule.first_token_any and words and "," in text[match.end():words[0][0]]:
                return []
            if (rule.first_token_any and words and mixed_case and not text[words[0][0]].isupper()
                    and not self.lexicons.is_name(text[words[0][0]:words[0][1]].rstrip("."))):
                return []
        else:
            words = _words_before(text, match.start())
        taken: list[tuple[int, int]] = []
        for start, end in words:
            word = text[start:end].rstrip(".")
            if len(word) == 1 and (text[start:end].endswith(".") or word.isupper()):
                taken.append((start, start + 1))  # an initial: "ROBERT V. DEGIORGIO"
                continue
            if len([t for t in taken if t[1] - t[0] > 1]) >= rule.max_tokens or not self._accept(word, rule, not taken):
                break
            taken.append((start, start + len(word)))
        if rule.direction == "before" and all(e - s == 1 for s, e in taken):
            return []  # initials alone before a credential are units ("4L NP"), not names
        return taken

    def _accept(self, word: str, rule: ContextRule, first: bool) -> bool:
        low = word.lower()
        if low in self._stop or len(low) < 2 or low in self.lexicons.clinical_terms:
            return False
        if rule.type is PHIType.LOCATION:
            return low not in self.lexicons.clinical_vocabulary or low in self.lexicons.us_places or self.lexicons.is_name(low)
        if first and rule.first_token_any:
            return True
        if first and low in self.lexicons.common_words:
            return False
        return self.lexicons.is_name(low) and (low not in self.lexicons.clinical_vocabulary or not first)


def is_mixed_case(text: str) -> bool:
    """Whether a note uses ordinary capitalisation (neither all capitals nor all lower case)."""
    letters = [c for c in text if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return 0.02 * len(letters) < upper < 0.6 * len(letters)


def _words_after(text: str, pos: int) -> list[tuple[int, int]]:
    """Words right after ``pos``, separated only by spaces (and a comma or dash before the first)."""
    out = []
    lead = _FIRST_GAP
    while True:
        gap = lead.match(text, pos)
        word = _WORD.match(text, gap.end()) if gap else None
        if not word:
            return out
        out.append(word.span())
        pos = word.end()
        lead = _NEXT_GAP
        if len(out) >= 6:
            return out


def _words_before(text: str, pos: int) -> list[tuple[int, int]]:
    """Words right before ``pos``, nearest first, separated only by spaces (a comma before the trigger)."""
    window_start = max(0, pos - 80)
    words = [m.span() for m in _WORD.finditer(text[window_start:pos])]
    out = []
    end = pos
    for s, e in reversed(words):
        s, e = s + window_start, e + window_start
        gap = text[e:end]
        allowed = r"[ \t]*,?[ \t]*" if not out else r"[ \t]+"
        if not re.fullmatch(allowed, gap):
            break
        out.append((s, e))
        end = s
    return out
