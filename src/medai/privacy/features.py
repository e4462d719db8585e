"""Tokens and token features for the learned PHI tagger.

Each token gets string features: its word, shape, affixes, membership in the name / place /
clinical word lists, the rules that fire on it, and the same for its neighbours (two each side).
They are hashed (``sklearn.feature_extraction.FeatureHasher``) into a fixed-size sparse vector.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from medai.privacy.lexicons import Lexicons
from medai.privacy.phi import PHISpan

TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+|[^\sA-Za-z\d]")
WINDOW = 3
_CONTEXT_RULES = ("name-", "location-")


def tokenize(text: str) -> list[tuple[int, int]]:
    """(start, end) of words, digit runs and single punctuation marks."""
    return [m.span() for m in TOKEN.finditer(text)]


def shape(word: str) -> str:
    """Collapsed character classes: ``Xx``, ``X``, ``x``, ``d``, punctuation kept (``8/23`` -> ``d/d``)."""
    out = re.sub(r"[A-Z]+", "X", re.sub(r"[a-z]+", "x", re.sub(r"\d+", "d", word)))
    return out[:6]


def _lexical(word: str, lex: Lexicons, stop: frozenset[str]) -> list[str]:
    low = word.lower()
    flags = []
    if low in lex.first_names:
        flags.append("first")
    if low in lex.surnames:
        flags.append("sur")
    if low in lex.us_places:
        flags.append("place")
    if low in lex.clinical_vocabulary:
        flags.append("clin")
    if low in lex.clinical_terms:
        flags.append("term")
    if low in stop:
        flags.append("stop")
    return flags


def _rule_hits(tokens: Sequence[tuple[int, int]], spans: Sequence[PHISpan]) -> list[list[str]]:
    """For each token, the ids of the rules whose span overlaps it."""
    hits: list[list[str]] = [[] for _ in tokens]
    starts = [s for s, _ in tokens]
    import bisect

    for span in spans:
        i = max(0, bisect.bisect_right(starts, span.start) - 1)
        while i < len(tokens) and tokens[i][0] < span.end:
            if tokens[i][1] > span.start:
                hits[i].append(span.source.removeprefix("rule:"))
            i += 1
    return hits


def _document_memory(words: Sequence[str], hits: Sequence[list[str]]) -> dict[str, str]:
    """Words that a name or place context rule points at somewhere in the document (same person, same place)."""
    memory = {}
    for word, rules in zip(words, hits):
        for rule in rules:
            if rule.startswith(_CONTEXT_RULES) and len(word) > 1:
                memory[word.lower()] = rule
    return memory


def token_features(text: str, tokens: Sequence[tuple[int, int]], rule_spans: Sequence[PHISpan], lex: Lexicons,
                   stop: frozenset[str]) -> list[list[str]]:
    """The feature strings of every token of one document."""
    words = [text[s:e] for s, e in tokens]
    letters = [c for c in text if c.isalpha()]
    upper_doc = bool(letters) and sum(c.isupper() for c in letters) > 0.6 * len(letters)
    case = "U" if upper_doc else "M"
    hits = _rule_hits(tokens, rule_spans)
    remembered = _document_memory(words, hits)
    own = []
    for word, rules in zip(words, hits):
        low = word.lower()
        feats = [f"w={low}", f"sh={shape(word)}", f"p2={low[:2]}", f"p3={low[:3]}", f"s2={low[-2:]}", f"s3={low[-3:]}",
                 f"s4={low[-4:]}", f"len={min(len(word), 10)}"]
        if low in remembered:
            feats.append(f"doc-rule={remembered[low]}")
        if word[:1].isupper():
            feats.append(f"cap{case}={'U' if word.isupper() else 'T'}")
        feats += [f"lex={f}" for f in _lexical(word, lex, stop)]
        feats += [f"rule={r}" for r in rules]
        own.append(feats)
    out = []
    n = len(words)
    for i in range(n):
        feats = ["bias", f"doc={case}"] + own[i]
        line_start = tokens[i][0] == 0 or "\n" in text[tokens[i - 1][1]:tokens[i][0]] if i else True
        if line_start:
            feats.append("bol")
        for d in range(-WINDOW, WINDOW + 1):
            if d == 0:
                continue
            j = i + d
            if 0 <= j < n:
                feats.append(f"w{d}={words[j].lower()}")
                if abs(d) < 3:
                    feats.append(f"sh{d}={shape(words[j])}")
                    feats += [f"{f}{d}" for f in own[j] if f.startswith(("lex=", "rule=", "cap", "doc-rule"))]
            else:
                feats.append(f"w{d}=<pad>")
        if i > 0:
            feats.append(f"bi-={words[i - 1].lower()}|{words[i].lower()}")
        if i + 1 < n:
            feats.append(f"bi+={words[i].lower()}|{words[i + 1].lower()}")
        out.append(feats)
    return out
