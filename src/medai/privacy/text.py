"""De-identify free text: rules + learned tagger -> PHI spans -> masks or consistent surrogates.

>>> deid = Deidentifier(mode="mask")                                          # doctest: +SKIP
>>> deid.deidentify("Mr. Logan seen 8/23 by Dr. Swan.").text                   # doctest: +SKIP
'Mr. [NAME] seen [DATE] by Dr. [NAME].'
>>> Deidentifier(mode="surrogate", key="k").deidentify(text, patient_id="p1")   # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from medai.errors import InvalidInput, Problem
from medai.privacy.phi import PHISpan, PHIType, merge_spans
from medai.privacy.rules import RuleDetector
from medai.privacy.surrogates import SurrogateGenerator, mask

Mode = Literal["mask", "surrogate"]
PROPAGATED = (PHIType.NAME, PHIType.LOCATION)
_WORD = re.compile(r"[A-Za-z][A-Za-z']{2,}")
_SHORT_DATE = re.compile(r"\d{1,2}/\d{1,2}")
_INITIAL_BEFORE = re.compile(r"(?<![A-Za-z])([A-Z])\.?[ \t]?$")


@dataclass
class Replacement:
    """One redaction: the PHI span in the original text and what replaced it."""

    span: PHISpan
    replacement: str

    def to_dict(self) -> dict:
        """JSON-ready, with ``replacement`` added to the span's fields."""
        return {**self.span.to_dict(), "replacement": self.replacement}


@dataclass
class DeidResult:
    """The de-identified text and every span of the original that was replaced."""

    text: str
    replacements: list[Replacement] = field(default_factory=list)

    @property
    def spans(self) -> list[PHISpan]:
        """The PHI spans, in the original text's offsets."""
        return [r.span for r in self.replacements]


class Deidentifier:
    """Finds PHI (standalone rules, the learned tagger, then propagation of found names) and replaces it.

    ``mode="mask"`` writes ``[TYPE]``; ``mode="surrogate"`` writes keyed fakes (needs ``key``).
    ``use_tagger=False`` runs the rules alone (no model package or notes extra needed); the weak rules
    (ambiguous patterns such as ``8/23``) then redact on their own too, trading precision for recall.
    """

    def __init__(self, mode: Mode = "mask", key: str | bytes | None = None, use_tagger: bool = True,
                 propagate: bool = True, threshold: float | None = None, tagger=None, rules: RuleDetector | None = None):
        if mode not in ("mask", "surrogate"):
            raise ValueError(f"mode must be 'mask' or 'surrogate', got {mode!r}")
        if mode == "surrogate" and not key:
            raise ValueError("surrogate mode needs a key (any secret string); keep it to reproduce the surrogates")
        self.mode = mode
        self.key = key
        self.use_tagger = use_tagger
        self.propagate = propagate
        self.threshold = threshold
        self.rules = rules or RuleDetector()
        self._tagger = tagger

    @property
    def tagger(self):
        """The learned tagger (loaded from the ``deid-tagger`` package on first use)."""
        if self._tagger is None and self.use_tagger:
            from medai.privacy.tagger import DeidTagger

            self._tagger = DeidTagger.from_package()
        return self._tagger

    def detect(self, text: str) -> list[PHISpan]:
        """Merged, non-overlapping PHI spans of ``text``."""
        if not isinstance(text, str):
            raise InvalidInput(Problem("text", f"expected a string, got {type(text).__name__}"))
        hits = self.rules.find(text)
        spans = [s for s in hits if self.rules.is_standalone(s, with_tagger=self.use_tagger)]
        if self.use_tagger and text.strip():
            from medai.privacy.tagger import hinted_tokens

            tagger = self.tagger
            tokens, proba = tagger.token_proba(text, hits)
            hinted = hinted_tokens(tokens, self.rules.weak_hits(hits))
            spans += tagger.spans_from_proba(text, tokens, proba, self.threshold, hinted, bounds=list(spans))
        if self.propagate:
            spans += self._propagated(text, spans)
        spans += _initials(text, spans)
        return merge_spans(spans, text)

    def _propagated(self, text: str, spans: list[PHISpan]) -> list[PHISpan]:
        """Every other whole-word occurrence of a found name or place word (same person, same document), and of a
        found short date such as "7/2" (same day, same document)."""
        lex = self.rules.lexicons
        stop = {w.lower() for w in self.rules.rules.stopwords}
        words = {}
        for span in spans:
            if span.type not in PROPAGATED:
                continue
            for match in _WORD.finditer(span.text):
                low = match.group().lower()
                if low in stop or low in lex.clinical_terms or (low in lex.clinical_vocabulary and not lex.is_name(low)):
                    continue
                words[low] = span
        for span in spans:
            if span.type is PHIType.DATE and _SHORT_DATE.fullmatch(span.text):
                words[span.text] = span
        out = []
        for low, origin in words.items():
            pattern = (rf"(?<![\w/.]){re.escape(low)}(?![\w/]|\.\d)" if origin.type is PHIType.DATE
                       else rf"(?<![A-Za-z]){re.escape(low)}(?![A-Za-z])")
            for match in re.finditer(pattern, text, re.IGNORECASE):
                out.append(PHISpan(match.start(), match.end(), origin.type, match.group(),
                                   f"propagated:{origin.source.split(',')[0]}", origin.score))
        return out

    def deidentify(self, text: str, patient_id: str = "") -> DeidResult:
        """Replace every PHI span; surrogate dates are shifted by ``patient_id``'s offset."""
        spans = self.detect(text)
        generator = SurrogateGenerator(self.key, patient_id) if self.mode == "surrogate" else None
        pieces, replacements, cursor = [], [], 0
        for span in spans:
            new = generator.replace(span) if generator else mask(span)
            pieces += [text[cursor:span.start], new]
            replacements.append(Replacement(span, new))
            cursor = span.end
        pieces.append(text[cursor:])
        return DeidResult("".join(pieces), replacements)


def _initials(text: str, spans: list[PHISpan]) -> list[PHISpan]:
    """The initial right before a found name ("W. MAROTTA", "B Muse"): part of the same name."""
    out = []
    for span in spans:
        if span.type is PHIType.NAME:
            match = _INITIAL_BEFORE.search(text, max(0, span.start - 4), span.start)
            if match:
                out.append(PHISpan(match.start(1), match.end(1), PHIType.NAME, match.group(1),
                                   f"initial:{span.source.split(',')[0]}", span.score))
    return out


def deidentify_text(text: str, mode: Mode = "mask", key: str | None = None, patient_id: str = "") -> DeidResult:
    """One-call de-identification with the shipped rules and tagger."""
    return Deidentifier(mode=mode, key=key).deidentify(text, patient_id)
