"""The rule half of the crisis screen: lexicon matches, negation, and escalation to imminent.

Negation lowers a negatable match to ``low`` (it is kept as evidence, never dropped); explicit intent,
plans, means and acts are never lowered. Contexts act on the soft rules they name: a pseudo-trigger
("cut myself shaving", "died of a heart attack last year") drops the match it overlaps, an informational or
third-person frame ("a documentary about suicide prevention") lowers it to ``low``; matches elsewhere in the
message are untouched. A message with suicidal or violent ideation/intent together with a plan, a means or
a time frame is ``imminent``.
"""

from __future__ import annotations

import re

from medai.assistant.safety.lexicon import Context, Lexicon, Negation, Rule, compiled, compiled_contexts, load_lexicon
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
    frames = _context_spans(clean, lexicon)
    found: list[Evidence] = []
    for rule, patterns in compiled(lexicon):
        for pattern in patterns:
            for match in pattern.finditer(clean):
                context = _context_of(rule, match.start(), match.end(), frames)
                if context is not None and context.effect == "drop":
                    continue
                negated = rule.negatable and _negated(clean, match.start(), lexicon.negation)
                risk = "low" if negated or context is not None else rule.risk
                kind = rule.kind if context is None else f"{rule.kind}, context: {context.id}"
                for category in (rule.category, *rule.also):
                    found.append(Evidence(match.start(), match.end(), match.group(0), "rule", f"{lexicon.id}:{rule.id}",
                                          category, risk, kind, negated))
    found = _deduplicate(found)
    found += _imminence(found, lexicon.id)
    risk = max_risk(*(e.risk for e in found))
    categories = tuple(c for c in CATEGORIES if any(e.category == c for e in found))
    return ScreenResult(risk, categories, tuple(sorted(found, key=lambda e: (e.start, e.end, e.rule))))


def _context_spans(text: str, lexicon: Lexicon) -> list[tuple[Context, int, int]]:
    """Every context match in ``text``: the context and its span."""
    return [(context, m.start(), m.end()) for context, patterns in compiled_contexts(lexicon)
            for pattern in patterns for m in pattern.finditer(text)]


def _context_of(rule: Rule, start: int, end: int, frames: list[tuple[Context, int, int]]) -> Context | None:
    """The context governing a match of ``rule`` at ``start:end`` (a drop wins over a damper), or None."""
    hits = [c for c, a, b in frames if a < end and start < b and c.applies_to(rule)]
    return next((c for c in hits if c.effect == "drop"), hits[0] if hits else None)


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
