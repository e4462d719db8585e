"""De-identification metrics: recall and precision per PHI type, and over-redaction of clinical words.

Counting is category-blind for protection (a name redacted as a location is still protected) and
relaxed on boundaries, as in the i2b2 de-identification evaluations:

- **phrase recall** of a gold phrase: every letter and digit of it lies inside some predicted span;
- **token recall / precision**: over alphanumeric tokens (a token counts as redacted when it
  overlaps a predicted span, and as PHI when it overlaps a gold span);
- **span precision** of a predicted span: it overlaps some gold phrase;
- **over-redaction**: share of clinical-vocabulary tokens outside gold PHI that were redacted.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from medai.privacy.phi import PHISpan

_TOKEN = re.compile(r"[A-Za-z0-9]+")
GOLD_TYPES = {"HCPName": "NAME", "PTName": "NAME", "PTNameInitial": "NAME", "RelativeProxyName": "NAME",
              "Date": "DATE", "DateYear": "DATE", "Location": "LOCATION", "Phone": "PHONE", "Age": "AGE",
              "Other": "ID"}
"""PhysioNet deid categories -> medai PHI types."""


@dataclass
class Counts:
    """Hits and totals for one PHI type (or overall)."""

    gold_phrases: int = 0
    found_phrases: int = 0
    gold_tokens: int = 0
    found_tokens: int = 0
    predicted_spans: int = 0
    correct_spans: int = 0
    predicted_tokens: int = 0
    correct_tokens: int = 0

    def add(self, other: Counts) -> None:
        """Accumulate another count into this one."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def metrics(self) -> dict[str, float | int | None]:
        """Recall and precision (phrase/span and token level) with their denominators."""
        def ratio(a: int, b: int) -> float | None:
            return a / b if b else None
        return {"phrase_recall": ratio(self.found_phrases, self.gold_phrases), "gold_phrases": self.gold_phrases,
                "token_recall": ratio(self.found_tokens, self.gold_tokens), "gold_tokens": self.gold_tokens,
                "span_precision": ratio(self.correct_spans, self.predicted_spans), "predicted_spans": self.predicted_spans,
                "token_precision": ratio(self.correct_tokens, self.predicted_tokens), "predicted_tokens": self.predicted_tokens}


@dataclass
class DeidEvaluation:
    """Per-type and overall counts, over-redaction, and the misses for error analysis."""

    by_type: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    overall: Counts = field(default_factory=Counts)
    clinical_tokens: int = 0
    clinical_redacted: int = 0
    over_redacted_words: Counter = field(default_factory=Counter)
    missed: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(note id, gold category, phrase, context) of every gold phrase not fully redacted."""

    @property
    def over_redaction(self) -> float | None:
        """Share of clinical-vocabulary tokens (outside gold PHI) that were redacted."""
        return self.clinical_redacted / self.clinical_tokens if self.clinical_tokens else None

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {"overall": self.overall.metrics(), "by_type": {k: v.metrics() for k, v in sorted(self.by_type.items())},
                "over_redaction": self.over_redaction, "clinical_tokens": self.clinical_tokens,
                "top_over_redacted": self.over_redacted_words.most_common(20), "n_missed": len(self.missed)}


def _covered(mask: bytearray, start: int, end: int) -> bool:
    return all(mask[i] for i in range(start, end))


def _mask(length: int, spans: Iterable[tuple[int, int]]) -> bytearray:
    out = bytearray(length)
    for s, e in spans:
        out[s:e] = b"\x01" * (e - s)
    return out


def clinical_words() -> frozenset[str]:
    """The over-redaction vocabulary: ICD-10-CM description words, less the rules' stop words (the, with, ...)."""
    from medai.privacy.lexicons import load_lexicons
    from medai.privacy.rules import load_rules

    stop = {w.lower() for w in load_rules().stopwords}
    return frozenset(w for w in load_lexicons().clinical_vocabulary if w not in stop and len(w) > 3)


def evaluate_note(text: str, gold: Sequence[tuple[int, int, str]], predicted: Sequence[PHISpan],
                  result: DeidEvaluation, clinical_words: frozenset[str] = frozenset(), note_id: str = "") -> None:
    """Add one note's counts to ``result``; ``gold`` holds (start, end, medai type)."""
    pred_mask = _mask(len(text), [(p.start, p.end) for p in predicted])
    gold_mask = _mask(len(text), [(s, e) for s, e, _ in gold])
    for start, end, kind in gold:
        counts = Counts(gold_phrases=1)
        tokens = [m.span() for m in _TOKEN.finditer(text, start, end)]
        counts.gold_tokens = len(tokens)
        counts.found_tokens = sum(_covered(pred_mask, s, e) for s, e in tokens)
        counts.found_phrases = int(counts.found_tokens == len(tokens))
        if not counts.found_phrases:
            result.missed.append((note_id, kind, text[start:end], text[max(0, start - 40):end + 30]))
        result.by_type[kind].add(counts)
        result.overall.add(counts)
    for span in predicted:
        tokens = [m.span() for m in _TOKEN.finditer(text, span.start, span.end)]
        hit = [any(gold_mask[s:e]) for s, e in tokens]
        counts = Counts(predicted_spans=1, correct_spans=int(any(hit)), predicted_tokens=len(tokens), correct_tokens=sum(hit))
        result.by_type[span.type.value].add(counts)
        result.overall.add(counts)
    if clinical_words:
        for match in _TOKEN.finditer(text):
            word = match.group().lower()
            if word in clinical_words and not any(gold_mask[match.start():match.end()]):
                result.clinical_tokens += 1
                if any(pred_mask[match.start():match.end()]):
                    result.clinical_redacted += 1
                    result.over_redacted_words[word] += 1


def evaluate_corpus(notes: Sequence, predictions: Mapping[str, Sequence[PHISpan]],
                    clinical_words: frozenset[str] = frozenset()) -> DeidEvaluation:
    """Evaluate predictions (note id -> spans) on corpus notes (``DeidNote``-like: id, text, spans)."""
    result = DeidEvaluation()
    for note in notes:
        gold = [(s.start, s.end, GOLD_TYPES.get(s.category, "ID")) for s in note.spans]
        evaluate_note(note.text, gold, predictions.get(note.id, []), result, clinical_words, note.id)
    return result
