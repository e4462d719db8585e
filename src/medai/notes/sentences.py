"""Fast rule-based sentence splitting for clinical text, as character spans.

One compiled regex finds candidate boundaries (``.``, ``!``, ``?`` or ``;``-free line ends);
abbreviations (``Dr.``, ``e.g.``, ``approx.``), decimals (``2.5 cm``), list numbers
(``1. Left lower lobe``) and initials do not end a sentence. A blank line, or a line break
before a capitalised header (``IMPRESSION:``) or a list item, always does. Spans are
``(start, end)`` offsets into the text with surrounding whitespace trimmed, so callers can map
results back onto the note. No spaCy model is needed; it runs at several MB/s in pure Python.
"""

from __future__ import annotations

import re
from bisect import bisect_right

# Tokens that end with a period but rarely end a sentence (lower-cased, without the final period).
ABBREVIATIONS = frozenset("""
dr mr mrs ms prof sr jr st vs etc approx appt dept fig no nos inc co corp jan feb mar apr jun jul aug sep sept oct
nov dec e.g i.e a.m p.m b.i.d t.i.d q.i.d q.d p.o p.r.n h.s q.h pt pts resp temp vol
""".split())

_BOUNDARY = re.compile(r"""
    (?P<stop>[.!?]+)["')\]]*(?=\s+|$)      # sentence-final punctuation followed by space or end
  | (?P<para>\n[ \t]*\n\s*)                # a blank line
  | (?P<line>\n(?=[ \t]*(?:[A-Z][A-Z0-9 /&,()'-]{2,60}:|\d{1,2}[.)]\s|[-*\u2022]\s)))  # header or list item next
""", re.VERBOSE)
_WORD_BEFORE = re.compile(r"(\S+)$")
_NEXT_CHAR = re.compile(r"\s*(\S)")


def _is_false_stop(text: str, match: re.Match[str]) -> bool:
    """A period that belongs to an abbreviation, a list number, an initial or a decimal."""
    if match.group("stop") != ".":
        return False
    word_match = _WORD_BEFORE.search(text, max(0, match.start() - 40), match.start())
    word = word_match.group(1).lower().lstrip("([\"'") if word_match else ""
    if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    if word.isdigit() and len(word) <= 2:  # "1." list number: only a boundary when the text before it is done
        before = text[max(0, match.start() - len(word) - 3):match.start() - len(word)]
        if not before.strip() or before.rstrip().endswith((":", ".", "\n")):
            return True
    following = _NEXT_CHAR.match(text, match.end())
    return bool(following and following.group(1).islower())


def split_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``, in order, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group("stop") is not None and _is_false_stop(text, match):
            continue
        end = match.end() if match.group("stop") is not None else match.start()
        _append(text, start, end, spans)
        start = match.end()
    _append(text, start, len(text), spans)
    return spans


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def split(text: str) -> list[str]:
    """Sentences of ``text`` as strings."""
    return [text[s:e] for s, e in split_spans(text)]


class SentenceIndex:
    """Sentence spans of one text with a fast lookup of the sentence holding an offset."""

    def __init__(self, text: str):
        self.text = text
        self.spans = split_spans(text)
        self._starts = [s for s, _ in self.spans]

    def index_of(self, offset: int) -> int | None:
        """Index of the sentence containing character ``offset`` (``None`` if it falls between sentences)."""
        i = bisect_right(self._starts, offset) - 1
        if i >= 0 and offset < self.spans[i][1]:
            return i
        return None

    def span_of(self, start: int, end: int) -> tuple[int, int]:
        """The sentence span holding ``[start, end)``; spans crossing a boundary widen to cover both sentences."""
        first = self.index_of(start)
        last = self.index_of(max(start, end - 1))
        lo = self.spans[first][0] if first is not None else start
        hi = self.spans[last][1] if last is not None else end
        return min(lo, start), max(hi, end)
