"""Where a learned tagger's PHI span may start and end.

A token tagger marks tokens; runs of marked tokens become spans. Left alone, a run swallows its
neighbours ("seen on 03/04/2024. Call 617-555-1234" as one span). These functions cut runs so that

- tokens inside a standalone rule hit are left to the rule (the rule's span and type win), and a
  run never crosses such a hit;
- a run never crosses sentence punctuation (``.`` before a space, except after an initial, and
  ``! ? ;`` or ``:`` before a space);
- a run neither begins nor ends with punctuation, a stop word, a common note word ("call",
  "seen") or a clinical word that is not a name or place, unless a rule or lexicon points at it;
- a run never cuts a word: letters and digits glued to its ends join it ("QUARTERMAIN7");
- a time of day ("7A", "at 2000") is no date (see ``is_clock_time``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from medai.privacy.lexicons import Lexicons
from medai.privacy.phi import PHISpan

MONTHS = frozenset("january february march april may june july august september october november december "
                   "jan feb mar apr jun jul aug sep sept oct nov dec".split())
_SENTENCE_END = frozenset("!?;")
_HOUR = re.compile(r"\d{1,2}[ \t]?[AaPp]\.?[Mm]?\.?|\d{1,2}(?=:\d\d)")
_CLOCK = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d")
_CLOCK_BEFORE = re.compile(r"(?:\bat|@|\bby|\buntil|\btill)[ \t]*$", re.IGNORECASE)


def is_clock_time(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a time of day, not a date: an hour with am/pm ("7A", "3P"), the hour of
    "9:30", or a 24-hour time after "at" / "@" / "by" / "until" ("at 2000", "@ 0930"). Times are no
    Safe Harbor identifier; a year after "at" ("at 2000") is read as a time too."""
    piece = text[start:end]
    if _HOUR.fullmatch(piece) or (piece.isdigit() and len(piece) <= 2 and text[end:end + 1] == ":"
                                  and text[end + 1:end + 3].isdigit()):
        return True
    return bool(_CLOCK.fullmatch(piece)) and bool(_CLOCK_BEFORE.search(text, max(0, start - 8), start))


def covered_tokens(tokens: Sequence[tuple[int, int]], spans: Sequence[PHISpan]) -> list[bool]:
    """Which tokens lie inside (overlap) one of ``spans``."""
    flags = [False] * len(tokens)
    for span in spans:
        for i, (s, e) in enumerate(tokens):
            if s >= span.end:
                break
            if e > span.start:
                flags[i] = True
    return flags


def is_sentence_break(text: str, tokens: Sequence[tuple[int, int]], i: int) -> bool:
    """Whether token ``i`` ends a sentence or clause: ``! ? ;``, or ``.`` / ``:`` followed by a space or the end
    (a ``.`` after a one-letter initial such as "A." in "DAN A. FORMAN" does not)."""
    s, e = tokens[i]
    mark = text[s:e]
    if mark in _SENTENCE_END:
        return True
    if mark not in ".:":
        return False
    followed_by_space = e >= len(text) or text[e].isspace()
    if not followed_by_space:
        return False
    if mark == "." and i > 0:
        ps, pe = tokens[i - 1]
        if pe == s and pe - ps == 1 and text[ps].isalpha():
            return False
    return True


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:;\n"


def is_trimmable(text: str, token: tuple[int, int], lex: Lexicons, stop: frozenset[str]) -> bool:
    """Whether a token may not begin or end a tagger span: punctuation, or a stop / common / clinical word.

    A capitalised census name inside a sentence ("Will", "Bill") and month names stay.
    """
    word = text[token[0]:token[1]]
    if not any(c.isalnum() for c in word):
        return True
    low = word.lower()
    if not low.isalpha() or low in MONTHS:
        return False
    name_like = word[:1].isupper() and lex.is_name(low) and not _sentence_start(text, token[0])
    if low in stop or low in lex.common_words:
        return not name_like
    if low in lex.clinical_vocabulary or low in lex.clinical_terms:
        return not (lex.is_name(low) or low in lex.us_places)
    return False


def _trim(text: str, token: tuple[int, int], pinned: bool, lex: Lexicons, stop: frozenset[str]) -> bool:
    if not any(c.isalnum() for c in text[token[0]:token[1]]):
        return True
    return not pinned and is_trimmable(text, token, lex, stop)


def bounded_runs(text: str, tokens: Sequence[tuple[int, int]], selected: Sequence[bool], joinable,
                 ruled: Sequence[bool], pinned: Sequence[bool], lex: Lexicons, stop: frozenset[str]) -> list[list[int]]:
    """Runs of selected token indices, cut at rule hits and sentence breaks, edges trimmed.

    ``joinable(gap)`` says whether two tokens separated by ``gap`` may share a span; ``ruled`` marks
    tokens inside standalone rule hits (never in a run); ``pinned`` marks tokens a weak rule or lexicon
    points at (never trimmed).
    """
    runs, run = [], []
    for i, (start, _) in enumerate(tokens):
        keep = selected[i] and not ruled[i] and not is_sentence_break(text, tokens, i)
        if keep and run and not joinable(text[tokens[run[-1]][1]:start]):
            runs.append(run)
            run = []
        if keep:
            run.append(i)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    out = []
    for run in runs:
        while run and _trim(text, tokens[run[0]], pinned[run[0]], lex, stop):
            run = run[1:]
        while run and _trim(text, tokens[run[-1]], pinned[run[-1]], lex, stop):
            run = run[:-1]
        if run:
            out.append(_whole_words(text, tokens, run, ruled))
    return out


def _whole_words(text: str, tokens: Sequence[tuple[int, int]], run: list[int], ruled: Sequence[bool]) -> list[int]:
    """``run`` grown over letters or digits glued to its ends ("QUARTERMAIN" + "7" of "QUARTERMAIN7"):
    a span never cuts an alphanumeric word in two."""
    first, last = run[0], run[-1]
    while (last + 1 < len(tokens) and not ruled[last + 1] and tokens[last + 1][0] == tokens[last][1]
           and text[tokens[last + 1][0]].isalnum() and text[tokens[last][1] - 1].isalnum()):
        last += 1
    while (first > 0 and not ruled[first - 1] and tokens[first - 1][1] == tokens[first][0]
           and text[tokens[first - 1][1] - 1].isalnum() and text[tokens[first][0]].isalnum()):
        first -= 1
    return list(range(first, last + 1))
