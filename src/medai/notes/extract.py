"""Condition extraction from note text: mentions with spans, assertion flags and ICD-10-CM codes.

Pipeline: the learned tagger (:mod:`medai.notes.ner`, diseases and disorders) and the term lexicons
(:mod:`medai.notes.lexicon`, signs, symptoms and abbreviations) find mentions; overlapping mentions
are merged (the longer span wins); ConText rules (:mod:`medai.notes.context`, with section defaults)
set the assertion flags; the coder (:mod:`medai.notes.icd10`) suggests ICD-10-CM codes per mention.

>>> [(m.text, m.negated, m.codes[0].code) for m in extract("No chest pain. History of CHF.")]  # doctest: +SKIP
[('chest pain', True, 'R07.9'), ('CHF', True, 'I50.9')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from medai.notes.icd10 import Code, ICD10Coder, default_coder
from medai.notes.lexicon import TermMatcher, default_matcher
from medai.notes.ner import ConditionTagger

LABEL = "condition"
FLAGS = ("negated", "uncertain", "historical", "family", "hypothetical")
MODIFIERS = frozenset("""acute chronic severe mild moderate bilateral left right recurrent sporadic familial
hereditary congenital primary secondary benign malignant mass lesion lesions disease diseases disorder disorders
syndrome abnormal abnormality abnormalities symptoms problems history""".split())
"""Words that are not a condition on their own: a tagger mention made only of them is dropped."""
PROCEDURE = re.compile(r"(ectomy|otomy|ostomy|plasty|scopy|graphy|pexy|rrhaphy|surgery|repair|biopsy|"
                       r"procedure|operation|transplant|transplantation|resection|excision)$", re.IGNORECASE)
"""A tagger mention ending in a procedure word names a procedure, not a condition (notes only, not PubMed)."""


@dataclass
class Mention:
    """A condition mention: ``text == note[start:end]``, where it came from, its assertion flags and codes."""

    start: int
    end: int
    text: str
    label: str = LABEL
    source: str = "ner"
    score: float = 1.0
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    codes: list[Code] = field(default_factory=list)
    assertion_evidence: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The CLI's entity object: span, label, the five flags and the codes (each with its evidence span)."""
        evidence = {"start": self.start, "end": self.end, "text": self.text}
        return {"start": self.start, "end": self.end, "text": self.text, "label": self.label,
                **{flag: getattr(self, flag) for flag in FLAGS},
                "codes": [{**code.as_dict(), "evidence": evidence} for code in self.codes]}


def merge_spans(candidates: Sequence[Mention]) -> list[Mention]:
    """Drop mentions that overlap a longer one (ties: the earlier candidate, i.e. the tagger's); note
    in ``source`` when the other finder agreed on a span it covers."""
    kept: list[Mention] = []
    for mention in sorted(candidates, key=lambda m: (-(m.end - m.start), m.start)):
        overlapping = [k for k in kept if mention.start < k.end and k.start < mention.end]
        if not overlapping:
            kept.append(mention)
        for other in overlapping:
            if mention.source not in other.source.split("+"):
                other.source = f"{other.source}+{mention.source}"
    return sorted(kept, key=lambda m: m.start)


class ConditionExtractor:
    """The whole extraction pipeline; each part can be swapped or switched off.

    ``tagger=None`` uses the shipped tagger; ``use_tagger=False`` / ``use_lexicon=False`` turn a finder
    off; ``assertions=False`` leaves the flags False; ``coder=None`` uses the shared ICD-10-CM coder.
    """

    def __init__(self, tagger: ConditionTagger | None = None, matcher: TermMatcher | None = None,
                 coder: ICD10Coder | None = None, use_tagger: bool = True, use_lexicon: bool = True,
                 assertions: bool = True, min_tagger_score: float = 0.6) -> None:
        self.tagger = tagger
        self.matcher = matcher
        self.coder = coder
        self.use_tagger = use_tagger
        self.use_lexicon = use_lexicon
        self.assertions = assertions
        self.min_tagger_score = min_tagger_score

    def extract(self, text: str) -> list[Mention]:
        """Mentions of one note, in text order."""
        return self.extract_many([text])[0]

    def extract_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        """Mentions of several notes (the tagger batches sentences of all of them)."""
        found = self._find(texts)
        coder = self.coder or default_coder()
        flat = [m for mentions in found for m in mentions]
        for mention, codes in zip(flat, coder.code_many([m.text for m in flat]), strict=True):
            mention.codes = codes
        if self.assertions:
            for text, mentions in zip(texts, found, strict=True):
                assert_mentions(text, mentions)
        return found

    def _find(self, texts: Sequence[str]) -> list[list[Mention]]:
        candidates: list[list[Mention]] = [[] for _ in texts]
        if self.use_tagger:
            tagger = self.tagger or shipped_tagger()
            for i, spans in enumerate(tagger.find_many(texts)):
                candidates[i] += [Mention(s.start, s.end, texts[i][s.start:s.end], source="ner", score=s.score)
                                  for s in spans if s.score >= self.min_tagger_score
                                  and is_condition_like(texts[i][s.start:s.end])
                                  and not texts[i][s.end:s.end + 1] == ":"]  # a heading (``THROAT:``)
        if self.use_lexicon:
            matcher = self.matcher or default_matcher()
            for i, text in enumerate(texts):
                candidates[i] += [Mention(m.start, m.end, m.text, source="lexicon") for m in matcher.find(text)]
        return [merge_spans(c) for c in candidates]


def is_condition_like(text: str) -> bool:
    """False for tagger mentions that are only modifiers (``chronic``), procedures (``tonsillectomy``) or
    shorter than three characters; lexicon matches are not filtered."""
    words = re.findall(r"[^\W_]+", text.lower())
    if len(text) < 3 or not words or all(w in MODIFIERS for w in words):
        return False
    return not PROCEDURE.search(words[-1])


def assert_mentions(text: str, mentions: list[Mention]) -> bool:
    """Set the assertion flags of ``mentions`` in place with :func:`medai.notes.context.assert_spans`.

    Returns False (flags left False) when the assertion module is not installed.
    """
    try:
        from medai.notes.context import assert_spans
    except ImportError:
        return False
    if not mentions:
        return True
    for mention, assertion in zip(mentions, assert_spans(text, [(m.start, m.end) for m in mentions]), strict=True):
        for flag in FLAGS:
            setattr(mention, flag, bool(getattr(assertion, flag)))
        mention.assertion_evidence = [dict(e.__dict__) for e in assertion.evidence]
    return True


@lru_cache(maxsize=1)
def shipped_tagger() -> ConditionTagger:
    """The shipped tagger, loaded once per process."""
    return ConditionTagger()


@lru_cache(maxsize=1)
def default_extractor() -> ConditionExtractor:
    """The default pipeline (shipped tagger, both lexicons, ConText assertions, ICD-10-CM coder)."""
    return ConditionExtractor()


def extract(text: str) -> list[Mention]:
    """Condition mentions of ``text`` with spans, assertion flags and ICD-10-CM codes (default pipeline)."""
    return default_extractor().extract(text)
