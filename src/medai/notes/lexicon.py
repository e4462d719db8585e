"""Term lexicons of conditions and findings with ICD-10-CM codes, and a fast phrase matcher.

Two shipped data files share one schema (:class:`TermFile`): ``clinical_findings.yaml`` (signs and
symptoms, R-codes mostly) and ``icd10_synonyms.yaml`` (abbreviations and synonyms of common
conditions: MI, CHF, COPD, DM2, HTN, afib...). :class:`TermMatcher` finds their phrases in text on
word boundaries: longest match first, phrases in capitals only in that exact case.

>>> matcher = default_matcher()
>>> [(m.text, m.code) for m in matcher.find("Pt with CHF, c/o shortness of breath.")]
[('CHF', 'I50.9'), ('shortness of breath', 'R06.02')]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import Field, model_validator

from medai.notes.ner_data import word_spans
from medai.core.knowledge import Citation, KnowledgeFile, Strict, parse_knowledge

FOLDER = "knowledge/notes"
FINDINGS_FILE = "clinical_findings.yaml"
SYNONYMS_FILE = "icd10_synonyms.yaml"


class TermEntry(Strict):
    """Phrases that name one ICD-10-CM code."""

    code: str = Field(pattern=r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
    terms: list[str] = Field(min_length=1)
    source: str = Field(description="A key of the file's ``sources``.")
    match: bool = Field(default=True, description="False: used to code mentions, never to find them in text.")


class TermFile(KnowledgeFile):
    """A lexicon file: citations and entries."""

    sources: dict[str, Citation]
    entries: list[TermEntry] = Field(min_length=1)
    rewrites: dict[str, str] = Field(default_factory=dict, description=(
        "Word -> words the ICD-10-CM titles use instead (lower case), tried when coding a mention."))

    @model_validator(mode="after")
    def _references(self) -> TermFile:
        seen: dict[str, int] = {}
        for i, entry in enumerate(self.entries):
            if entry.source not in self.sources:
                raise ValueError(f"entries[{i}]: source {entry.source!r} is not in sources")
            for term in entry.terms:
                key = term if is_abbreviation(term) else term.lower()
                if key in seen and self.entries[seen[key]].code != entry.code:
                    raise ValueError(f"entries[{i}]: {term!r} already names {self.entries[seen[key]].code}")
                seen[key] = i
        return self


@dataclass(frozen=True)
class Term:
    """One phrase of a lexicon with its code and where it comes from."""

    text: str
    code: str
    lexicon: str
    match: bool


@dataclass(frozen=True)
class TermMatch:
    """A phrase found in text: character span, the matched text, the lexicon phrase and its code."""

    start: int
    end: int
    text: str
    term: Term

    @property
    def code(self) -> str:
        """The ICD-10-CM code of the matched phrase."""
        return self.term.code


def is_abbreviation(term: str) -> bool:
    """Phrases with two or more capitals and no lower-case word (``SOB``, ``AFib`` is not) match case-sensitively."""
    letters = [c for c in term if c.isalpha()]
    return sum(c.isupper() for c in letters) >= 2 and all(c.isupper() for c in letters)


def load_terms(name: str, path: str | Path | None = None) -> TermFile:
    """Load and validate a shipped lexicon (``name``) or a user's file in the same schema."""
    if path is not None:
        return parse_knowledge(Path(path).read_text(encoding="utf-8"), TermFile, str(path))
    text = resources.files("medai.assets").joinpath(f"{FOLDER}/{name}").read_text(encoding="utf-8")
    return parse_knowledge(text, TermFile, f"{FOLDER}/{name}")


def terms_of(lexicon: TermFile, name: str) -> list[Term]:
    """Every phrase of a lexicon as a :class:`Term`."""
    return [Term(t, e.code, name, e.match) for e in lexicon.entries for t in e.terms]


@lru_cache(maxsize=1)
def shipped_terms() -> tuple[Term, ...]:
    """Phrases of both shipped lexicons (findings first)."""
    return tuple(t for name in (FINDINGS_FILE, SYNONYMS_FILE) for t in terms_of(load_terms(name), name))


@lru_cache(maxsize=1)
def shipped_rewrites() -> dict[str, str]:
    """The word rewrites of the shipped synonyms file (``cancer`` -> ``malignant neoplasm``...)."""
    return dict(load_terms(SYNONYMS_FILE).rewrites)


def _key(words: list[str]) -> tuple[str, ...]:
    return tuple(w.lower() for w in words)


class TermMatcher:
    """Finds lexicon phrases in text: word n-gram lookup, longest match first, no overlaps."""

    def __init__(self, terms: tuple[Term, ...] | list[Term]) -> None:
        self.terms = tuple(terms)
        self._exact: dict[tuple[str, ...], Term] = {}
        self._folded: dict[tuple[str, ...], Term] = {}
        for term in self.terms:
            if not term.match:
                continue
            words = [term.text[a:b] for a, b in word_spans(term.text)]
            if is_abbreviation(term.text):
                self._exact.setdefault(tuple(words), term)
                continue
            self._folded.setdefault(_key(words), term)
            if not words[-1].lower().endswith("s"):
                self._folded.setdefault(_key(words[:-1] + [words[-1] + "s"]), term)
        self._longest = max((len(k) for k in (*self._exact, *self._folded)), default=0)
        self._prefixes = frozenset(k[:n] for k in self._folded for n in range(1, len(k) + 1)) | frozenset(
            tuple(w.lower() for w in k[:n]) for k in self._exact for n in range(1, len(k) + 1))
        """Lower-cased word prefixes of every phrase: the lookup stops as soon as no phrase continues."""

    def find(self, text: str) -> list[TermMatch]:
        """Non-overlapping matches, left to right; at each word the longest phrase wins."""
        spans = word_spans(text)
        words = [text[a:b] for a, b in spans]
        lower = [w.lower() for w in words]
        found, i = [], 0
        while i < len(words):
            hit = self._lookup(words, lower, i)
            if hit is None:
                i += 1
                continue
            n, term = hit
            start, end = spans[i][0], spans[i + n - 1][1]
            found.append(TermMatch(start, end, text[start:end], term))
            i += n
        return found

    def _lookup(self, words: list[str], lower: list[str], i: int) -> tuple[int, Term] | None:
        """The longest phrase starting at word ``i`` (exact-case abbreviations first at each length)."""
        limit = 0
        for n in range(1, min(self._longest, len(words) - i) + 1):
            if tuple(lower[i:i + n]) not in self._prefixes:
                break
            limit = n
        for n in range(limit, 0, -1):
            term = self._exact.get(tuple(words[i:i + n])) or self._folded.get(tuple(lower[i:i + n]))
            if term is not None:
                return n, term
        return None


@lru_cache(maxsize=1)
def default_matcher() -> TermMatcher:
    """A matcher over both shipped lexicons (built once)."""
    return TermMatcher(shipped_terms())
