"""Follow-up detection: recommendations, appointments, pending results, return precautions and planned work-up.

What counts is defined in ``docs/notes_followup_guideline.md``. The triggers, the extraction of
*what* and the exclusions are regular expressions in ``assets/knowledge/notes/followup_patterns.yaml``
(validated by :class:`FollowupRules`, each citing its source); items whose trigger the ConText rules
find negated ("no follow-up imaging is needed") are dropped. *When* is normalised by
:func:`parse_when`: ``"in 3 months"`` -> ``{"value": 3, "unit": "month"}``, ``"in 6-8 weeks"`` ->
``{"low": 6, "high": 8, "unit": "week"}``, ``"prior to discharge"`` -> ``{"event": "discharge",
"relation": "before"}``, ``"as needed"`` -> ``{"condition": "as needed"}``.

>>> [(i.kind, i.what, i.when) for i in detect("Recommend follow-up CT in 3 months.")]
[('recommendation', 'follow-up ct', {'value': 3, 'unit': 'month'})]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from medai.notes.context import assert_in_sentence, read_rules
from medai.notes.sentences import split_spans
from medai.core.knowledge import Citation, KnowledgeFile, Strict

RULES_FILE = "knowledge/notes/followup_patterns.yaml"
Kind = Literal["recommendation", "appointment", "pending", "return_precaution", "planned"]
_DEFINITION = re.compile(r"<<(\w+)>>")
_LEADING = re.compile(r"^(?:(?:a|an|the|her|his|their|any|possible|routine|some|with|for|to|and|or|complete)\s+)+",
                      re.IGNORECASE)
_NEGATED_WHAT = re.compile(r"(?:no|not|without|none)\b")  # "no further imaging (is needed)"
_FOLLOW_UP = re.compile(r"\bfollow(?:\s+|-)?up\b", re.IGNORECASE)
_NUMBER = r"(?:\d+(?:\.\d+)?|[a-z]+)"
NEGATION_REACH = 12  # a negation trigger must end this close before the item (same clause) to negate it
MAX_GAP = 60  # characters between a trigger and the time phrase that belongs to it


class Pattern(Strict):
    """A trigger regex of one kind; its ``what`` group (or the ``what`` template) names the action."""

    id: str
    kind: Kind
    source: str
    regex: str
    anchor: str | None = Field(default=None, description="Cheap regex a sentence must contain before ``regex`` runs.")
    what: str | None = None


class Exclusion(Strict):
    """A regex that drops a match, tested on its ``what``, the text ``before`` or ``after`` it, or the ``trigger``."""

    id: str
    scope: Literal["what", "before", "after", "trigger"]
    source: str
    regex: str


class EventRule(Strict):
    """An event anchor for *when*: ``prior to discharge`` -> event ``discharge``, relation ``before``."""

    regex: str
    event: str
    relation: str


class ConditionRules(Strict):
    """Conditions for *when*: ``as needed``, ``if clinically indicated``, and what introduces a free condition."""

    as_needed: str
    clinically_indicated: str
    introducers: str
    stop_words: str = Field(description="Words that end a free condition (the next action's trigger).")


class FollowupRules(KnowledgeFile):
    """The follow-up pattern file."""

    sources: dict[str, Citation]
    definitions: dict[str, str] = Field(default_factory=dict)
    patterns: list[Pattern] = Field(min_length=1)
    exclusions: list[Exclusion] = Field(default_factory=list)
    units: dict[str, list[str]]
    numbers: dict[str, int | None]
    events: list[EventRule]
    conditions: ConditionRules

    @model_validator(mode="after")
    def _check(self) -> FollowupRules:
        for entry in [*self.patterns, *self.exclusions]:
            if entry.source not in self.sources:
                raise ValueError(f"{entry.id}: source {entry.source!r} is not in sources")
            try:
                re.compile(self.expand(entry.regex))
            except (re.error, KeyError) as error:
                raise ValueError(f"{entry.id}: bad regex ({error})") from None
        return self

    def expand(self, regex: str) -> str:
        """``regex`` with every ``<<name>>`` replaced by its definition (recursively)."""
        for _ in range(5):
            regex = _DEFINITION.sub(lambda m: self.definitions[m.group(1)], regex)
        return regex


@dataclass(frozen=True)
class FollowupItem:
    """One follow-up item: its span in the text, kind, what, normalised when, and the trigger that found it."""

    start: int
    end: int
    text: str
    kind: str
    what: str
    when: dict | None
    trigger_start: int
    trigger_end: int
    pattern: str

    def as_dict(self) -> dict:
        """JSON-ready form (the CLI's item shape plus kind and evidence)."""
        return {"start": self.start, "end": self.end, "text": self.text, "kind": self.kind, "what": self.what,
                "when": self.when, "trigger": {"start": self.trigger_start, "end": self.trigger_end, "pattern": self.pattern}}


def load_rules(path: str | Path | None = None) -> FollowupRules:
    """The shipped follow-up patterns, or a user's file in the same schema."""
    return read_rules(RULES_FILE, FollowupRules, path)


class WhenParser:
    """Normalises time phrases: durations, ranges, repeats, dates, events and conditions."""

    def __init__(self, rules: FollowupRules):
        self.numbers = rules.numbers
        self.units = {alias: unit for unit, aliases in rules.units.items() for alias in aliases}
        unit = "(?P<unit>" + "|".join(sorted(map(re.escape, self.units), key=len, reverse=True)) + r")\b"
        lead = r"(?:(?:in|within|after|over|for)\s+)?(?:the\s+next\s+|about\s+|approximately\s+|another\s+|a\s+)?"
        self._range = re.compile(rf"\b{lead}(?P<low>{_NUMBER})\s*(?:-|to|\u2013)\s*(?P<high>{_NUMBER})\s+{unit}", re.I)
        self._every = re.compile(rf"\bevery\s+(?:(?P<n>{_NUMBER})\s+)?{unit}", re.I)
        self._single = re.compile(rf"\b(?:in|within|after)\s+(?:the\s+next\s+|about\s+|approximately\s+|another\s+)?"
                                  rf"(?:(?P<n>{_NUMBER})(?:\s+of)?\s+|(?P<couple>a\s+couple\s+of)\s+)?{unit}", re.I)
        self._bare = re.compile(rf"\b(?P<n>\d+|{'|'.join(k for k, v in self.numbers.items() if v and len(k) > 2)})"
                                rf"\s+{unit}(?:['\u2019]s?)?(?:\s+time)?(?!\s+(?:ago|of|prior|before))", re.I)
        self._next = re.compile(r"\b(?:next|in\s+(?:one|a))\s+(?P<unit>day|week|month|year)\b", re.I)
        self._tomorrow = re.compile(r"\b(?:tomorrow|in\s+the\s+(?:morning|am)|in\s+a\.?m\.?)\b", re.I)
        self._periodic = re.compile(r"\b(?P<word>daily|weekly|monthly|yearly|annually|annual)\b", re.I)
        self._date = re.compile(r"\bon\s+(?:the\s+)?(?P<date>\d{1,2}/\d{1,2}(?:/\d{2,4})?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|"
                                r"oct|nov|dec|month)[a-z]*\.?\s+\w{1,4},?\s+\w{2,4})", re.I)
        self._events = [(re.compile(e.regex, re.I), e) for e in rules.events]
        self._as_needed = re.compile(rules.conditions.as_needed, re.I)
        self._indicated = re.compile(rules.conditions.clinically_indicated, re.I)
        stop = rules.conditions.stop_words
        self._condition = re.compile(rules.conditions.introducers + rf"(?P<cond>(?:(?!\b{stop}\b)[^,.;:]){{3,80}})", re.I)

    def _number(self, text: str | None) -> float | int | None:
        if text is None:
            return None
        text = text.lower()
        if text in self.numbers:
            return self.numbers[text]
        try:
            value = float(text)
        except ValueError:
            return None
        return int(value) if value.is_integer() else value

    def find(self, text: str) -> list[tuple[int, int, dict]]:
        """Every time phrase in ``text`` as ``(start, end, normalised)``, most specific kinds first."""
        found: list[tuple[int, int, dict]] = []
        for m in self._date.finditer(text):
            found.append((m.start(), m.end(), {"date": m.group("date")}))
        for m in self._range.finditer(text):
            low, high = self._number(m.group("low")), self._number(m.group("high"))
            if low is not None and high is not None:
                found.append((m.start(), m.end(), {"low": low, "high": high, "unit": self.units[m.group("unit").lower()]}))
        for m in self._every.finditer(text):
            every = self._number(m.group("n")) if m.group("n") else 1
            if every is not None:
                found.append((m.start(), m.end(), {"every": every, "unit": self.units[m.group("unit").lower()]}))
        for regex in (self._single, self._bare):
            for m in regex.finditer(text):
                value = 2 if m.groupdict().get("couple") else (self._number(m.group("n")) if m.group("n") else 1)
                if value is not None:
                    found.append((m.start(), m.end(), {"value": value, "unit": self.units[m.group("unit").lower()]}))
        for m in self._next.finditer(text):
            found.append((m.start(), m.end(), {"value": 1, "unit": m.group("unit").lower()}))
        for m in self._tomorrow.finditer(text):
            found.append((m.start(), m.end(), {"value": 1, "unit": "day"}))
        for m in self._periodic.finditer(text):
            unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(m.group("word").lower(), "year")
            found.append((m.start(), m.end(), {"every": 1, "unit": unit}))
        for regex, rule in self._events:
            found += [(m.start(), m.end(), {"event": rule.event, "relation": rule.relation}) for m in regex.finditer(text)]
        found += [(m.start(), m.end(), {"condition": "as needed"}) for m in self._as_needed.finditer(text)]
        found += [(m.start(), m.end(), {"condition": "clinically indicated"}) for m in self._indicated.finditer(text)]
        for m in self._condition.finditer(text):
            if not any(s <= m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), {"condition": " ".join(m.group("cond").lower().split())}))
        return _first_of_overlaps(found)

    def parse(self, text: str) -> dict | None:
        """The first time phrase of ``text``, normalised, or ``None``."""
        found = self.find(text)
        return min(found, key=lambda f: f[0])[2] if found else None


def _first_of_overlaps(found: list[tuple[int, int, dict]]) -> list[tuple[int, int, dict]]:
    """Drop phrases overlapping an earlier-listed (more specific) one."""
    kept: list[tuple[int, int, dict]] = []
    for start, end, value in found:
        if not any(start < e and end > s for s, e, _ in kept):
            kept.append((start, end, value))
    return kept


@dataclass
class _Candidate:
    start: int
    end: int
    kind: str
    what: str
    pattern: str
    rank: int


def _normalise_what(text: str) -> str:
    text = " ".join(text.lower().replace("\u2019", "'").split()).strip(" ,.;:")
    text = _LEADING.sub("", text)
    return _FOLLOW_UP.sub("follow-up", text.replace("followup", "follow-up"))


class FollowupDetector:
    """Compiled follow-up patterns and the *when* parser of one :class:`FollowupRules`."""

    def __init__(self, rules: FollowupRules):
        self.rules = rules
        self.when = WhenParser(rules)
        self._patterns = [(re.compile(rules.expand(p.regex), re.I | re.M), re.compile(p.anchor or "", re.I), p)
                          for p in rules.patterns]
        self._exclusions = [(re.compile(rules.expand(e.regex), re.I), e) for e in rules.exclusions]

    def _excluded(self, sentence: str, match: re.Match[str], what: str) -> bool:
        before = sentence[max(0, match.start() - 60):match.start()]
        texts = {"what": what, "before": before, "after": sentence[match.end():match.end() + 30], "trigger": match.group(0)}
        if _NEGATED_WHAT.match(what):
            return True
        return any(regex.search(texts[rule.scope]) for regex, rule in self._exclusions)

    def _candidates(self, sentence: str) -> list[_Candidate]:
        out = []
        for rank, (regex, anchor, pattern) in enumerate(self._patterns):
            if not anchor.search(sentence):
                continue
            for m in regex.finditer(sentence):
                groups = m.groupdict()
                raw = _normalise_what(groups.get("what") or "")
                who = _normalise_what(groups.get("who") or "")
                what = pattern.what + (f" with {who}" if who and who not in ("me", "us") else "") if pattern.what else raw
                if not what or self._excluded(sentence, m, raw or what):
                    continue
                if _negated(sentence, m.start(), m.end()):
                    continue
                out.append(_Candidate(m.start(), m.end(), pattern.kind, what, pattern.id, rank))
        return _merge(out)

    def find_in_sentence(self, sentence: str, offset: int = 0) -> list[FollowupItem]:
        """Items of one sentence; offsets are shifted by ``offset``."""
        candidates = self._candidates(sentence)
        if not candidates:
            return []
        times = self.when.find(sentence)
        items = []
        for c in candidates:
            start, end, when = c.start, c.end, None
            clause = _clause_of(sentence, c.start, c.end)
            near = [t for t in times if _clause_of(sentence, t[0], t[1]) == clause and _gap(t, c) <= MAX_GAP]
            if near:
                t = min(near, key=lambda t: _gap(t, c))
                when, start, end = t[2], min(start, t[0]), max(end, t[1])
            while end > start and sentence[end - 1] in " ,.;:":
                end -= 1
            items.append(FollowupItem(start + offset, end + offset, sentence[start:end], c.kind, c.what, when,
                                      c.start + offset, c.end + offset, c.pattern))
        return items

    def find(self, text: str) -> list[FollowupItem]:
        """Every follow-up item of ``text``, in order, offsets into ``text``."""
        items: list[FollowupItem] = []
        for s0, s1 in split_spans(text):
            items += self.find_in_sentence(text[s0:s1], s0)
        return items


def _negated(sentence: str, start: int, end: int) -> bool:
    """ConText negation whose trigger sits right before the item, in the same clause ("do not recommend")."""
    for evidence in assert_in_sentence(sentence, start, end).evidence:
        if evidence.category == "negated" and evidence.end <= start and start - evidence.end <= NEGATION_REACH \
                and "," not in sentence[evidence.end:start]:
            return True
    return False


def _gap(t: tuple[int, int, dict], c: _Candidate) -> int:
    """Characters between a time phrase and a candidate (0 when they touch or overlap)."""
    if t[1] <= c.start:
        return c.start - t[1]
    if t[0] >= c.end:
        return t[0] - c.end
    return 0


def _clause_of(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The ``;``-delimited clause holding ``[start, end)``."""
    left = sentence.rfind(";", 0, start) + 1
    right = sentence.find(";", end)
    return left, len(sentence) if right < 0 else right


def _merge(candidates: list[_Candidate]) -> list[_Candidate]:
    """Overlapping matches become one item: span union, kind and what of the earliest-listed pattern."""
    merged: list[_Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.start, -c.end)):
        last = merged[-1] if merged else None
        if last is not None and c.start < last.end:
            best = last if last.rank <= c.rank else c
            merged[-1] = _Candidate(last.start, max(last.end, c.end), best.kind, best.what, best.pattern, best.rank)
        else:
            merged.append(c)
    return merged


@lru_cache(maxsize=1)
def default_detector() -> FollowupDetector:
    """The detector over the shipped patterns."""
    return FollowupDetector(load_rules())


def detect(text: str) -> list[FollowupItem]:
    """Follow-up items of ``text`` with the shipped patterns."""
    return default_detector().find(text)


def parse_when(text: str) -> dict | None:
    """Normalise the first time phrase of ``text`` (``None`` when there is none)."""
    return default_detector().when.parse(text)


def needs_followup(text: str) -> bool:
    """Whether ``text`` holds at least one follow-up item."""
    return bool(detect(text))


_STOP = frozenset("a an the of with for to in on at and or by her his their any possible visit".split())


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower().replace("followup", "follow-up")) if w not in _STOP}


def same_when(gold: dict | None, predicted: dict | None) -> bool:
    """Whether two normalised *when* values agree: equal, or both free conditions (their wording may differ)."""
    if gold is None or predicted is None:
        return gold is predicted
    if "condition" in gold and "condition" in predicted:
        return True
    return gold == predicted


@dataclass(frozen=True)
class FollowupScore:
    """Item-level precision/recall (span overlap) with what/when/kind agreement on matched items, and report level."""

    true_positives: int
    predicted: int
    gold: int
    kind_agree: int
    what_agree: int
    when_agree: int
    reports: int
    report_tp: int
    report_predicted: int
    report_gold: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold if self.gold else 1.0

    def as_dict(self) -> dict:
        """Counts plus precision, recall and agreement rates."""
        tp = self.true_positives or 1
        return {**self.__dict__, "precision": self.precision, "recall": self.recall,
                "f1": 2 * self.precision * self.recall / ((self.precision + self.recall) or 1),
                "kind_accuracy": self.kind_agree / tp, "what_accuracy": self.what_agree / tp, "when_accuracy": self.when_agree / tp,
                "report_precision": self.report_tp / self.report_predicted if self.report_predicted else 1.0,
                "report_recall": self.report_tp / self.report_gold if self.report_gold else 1.0}


def score(rows: list[dict], detector: FollowupDetector | None = None) -> FollowupScore:
    """Score the detector on labelled rows ``{"text", "items": [{"start", "end", "kind", "what", "when"}]}``.

    A prediction is a true positive when its span overlaps a still-unmatched labelled item (largest overlap first).
    """
    detector = detector or default_detector()
    counts = dict.fromkeys(["tp", "pred", "gold", "kind", "what", "when", "rtp", "rpred", "rgold"], 0)
    for row in rows:
        gold, predicted = row["items"], detector.find(row["text"])
        counts["pred"] += len(predicted)
        counts["gold"] += len(gold)
        counts["rpred"] += bool(predicted)
        counts["rgold"] += bool(gold)
        counts["rtp"] += bool(predicted) and bool(gold)
        free = list(gold)
        for item in predicted:
            overlaps = [(min(item.end, g["end"]) - max(item.start, g["start"]), i) for i, g in enumerate(free)]
            overlaps = [o for o in overlaps if o[0] > 0]
            if not overlaps:
                continue
            g = free.pop(max(overlaps)[1])
            counts["tp"] += 1
            counts["kind"] += item.kind == g["kind"]
            counts["what"] += bool(_content(item.what) & _content(g["what"]))
            counts["when"] += same_when(g["when"], item.when)
    return FollowupScore(counts["tp"], counts["pred"], counts["gold"], counts["kind"], counts["what"], counts["when"],
                         len(rows), counts["rtp"], counts["rpred"], counts["rgold"])
