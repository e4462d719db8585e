"""The rule half of the crisis screen: lexicon matches, negation, and escalation to imminent.

Negation lowers a negatable match to ``low`` (it is kept as evidence, never dropped); explicit intent,
plans, means and acts are never lowered. A message with suicidal or violent ideation/intent together
with a plan, a means or a time frame is ``imminent``.
"""

from __future__ import annotations

import re

from medai.assistant.safety.lexicon import Lexicon, Negation, compiled, load_lexicon
from medai.assistant.safety.types import CATEGORIES, Evidence, ScreenResult, max_risk

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_CLAUSE_END = re.compile(r"[.;!?\n]|,\s*(?:but|and|so)\b")
ESCALATING_KINDS = {"plan", "means", "time"}
INTENT_KINDS = {"ideation", "intent"}


def normalise(text: str) -> str:
    """Straight quotes and single spaces; the same length mapping is not kept, so offsets refer to this text."""
    return " ".join(text.translate(_QUOTES).split())


def _negated(text: str, start: int, negation: Negation) -> bool:
    """Whether a negation cue governs the match starting at ``start`` (same clause, within the window)."""
    before = text[:start]
    clause_breaks = list(_CLAUSE_END.finditer(before))
    clause = before[clause_breaks[-1].end():] if clause_breaks else before
    lowered = " " + clause.lower() + " "
    for word in negation.terminators:
        cut = lowered.rfind(f" {word} ")
        if cut >= 0:
            lowered = lowered[cut + len(word) + 1:]
    for pseudo in negation.pseudo:
        lowered = lowered.replace(pseudo, " ")
    words = lowered.split()[-negation.window:]
    window = " " + " ".join(words) + " "
    return any(f" {cue} " in window for cue in negation.cues)


def rule_screen(text: str, lexicon: Lexicon | None = None) -> ScreenResult:
    """Screen one message with the lexicon; evidence offsets refer to :func:`normalise` (text)."""
    lexicon = lexicon or load_lexicon()
    clean = normalise(text)
    found: list[Evidence] = []
    for rule, patterns in compiled(lexicon):
        for pattern in patterns:
            for match in pattern.finditer(clean):
                negated = rule.negatable and _negated(clean, match.start(), lexicon.negation)
                for category in (rule.category, *rule.also):
                    found.append(Evidence(match.start(), match.end(), match.group(0), "rule", f"{lexicon.id}:{rule.id}",
                                          category, "low" if negated else rule.risk, rule.kind, negated))
    found = _deduplicate(found)
    found += _imminence(found, lexicon.id)
    risk = max_risk(*(e.risk for e in found))
    categories = tuple(c for c in CATEGORIES if any(e.category == c for e in found))
    return ScreenResult(risk, categories, tuple(sorted(found, key=lambda e: (e.start, e.end, e.rule))))


def _deduplicate(found: list[Evidence]) -> list[Evidence]:
    """One evidence per (span, rule, category): the same words matched by two patterns of one rule count once."""
    seen, out = set(), []
    for e in found:
        key = (e.start, e.end, e.rule, e.category)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _imminence(found: list[Evidence], lexicon_id: str) -> list[Evidence]:
    """An extra ``imminent`` evidence per category where intent/ideation meets a plan, means or time frame."""
    extra = []
    for category in ("suicide_self_harm", "harm_to_others"):
        live = [e for e in found if e.category == category and not e.negated]
        wish = [e for e in live if e.kind in INTENT_KINDS and e.risk != "low"]
        method = [e for e in live if e.kind in ESCALATING_KINDS]
        if wish and method:
            start, end = min(e.start for e in wish + method), max(e.end for e in wish + method)
            kinds = sorted({e.kind for e in method})
            extra.append(Evidence(start, end, "", "rule", f"{lexicon_id}:escalation.{'+'.join(kinds)}", category,
                                  "imminent", "escalation"))
    return extra
