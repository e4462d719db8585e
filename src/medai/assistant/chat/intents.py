"""Intent matching: data-driven phrase and pattern rules, with an optional sentence-embedding fallback.

A phrase hit scores its number of words (longer phrases are more specific), a pattern hit scores 1; the
best score wins and ties go to the higher ``priority``. ``whole_message`` intents (stop, help, hello) match
only when the message is just one of their phrases. When no rule fires and ``semantic`` is on, the message
is compared with each intent's examples by MiniLM embedding (cosine >= the file's threshold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from medai.assistant.chat.knowledge import Intent, IntentFile, load_intents

_FILLER = re.compile(r"\b(please|thanks|thank you|ok|okay)\b|[^\w\s'-]")


@dataclass(frozen=True)
class IntentMatch:
    """The matched intent, its score, how it was found and the words that triggered it."""

    intent: Intent
    score: float
    method: str  # "rule" or "embedding"
    evidence: tuple[str, ...]


def normalise(text: str) -> str:
    """Lower case, punctuation and politeness words removed, single spaces."""
    return " ".join(_FILLER.sub(" ", text.lower().replace("\u2019", "'")).split())


@lru_cache(maxsize=2048)
def _phrase_pattern(phrase: str) -> re.Pattern:
    return re.compile(r"(?<![\w'])" + re.escape(phrase) + r"(?![\w'])")


class IntentMatcher:
    """Matches messages to the intents of ``rules`` (the shipped file by default)."""

    def __init__(self, rules: IntentFile | None = None, semantic: bool = False):
        self.rules = rules or load_intents()
        self.semantic = semantic

    def _rule_score(self, intent: Intent, text: str, plain: str) -> tuple[float, tuple[str, ...]]:
        if intent.whole_message:
            return (1.0, (plain,)) if plain in intent.phrases else (0.0, ())
        hits = [p for p in intent.phrases if _phrase_pattern(p).search(plain)]
        # a phrase inside a longer hit (e.g. "appointment" in "cancel my appointment") is not counted twice
        hits = [p for p in hits if not any(p != q and p in q for q in hits)]
        patterns = [m.group(0) for p in intent.patterns if (m := re.search(p, text, re.IGNORECASE))]
        return float(sum(len(p.split()) for p in hits) + len(patterns)), tuple(hits + patterns)

    def match(self, text: str, only: list[str] | None = None) -> IntentMatch | None:
        """The best intent for ``text`` (restricted to the ids in ``only`` when given), or ``None``."""
        plain = normalise(text)
        if not plain:
            return None
        candidates = [i for i in self.rules.intents if only is None or i.id in only]
        best: IntentMatch | None = None
        for intent in candidates:
            score, evidence = self._rule_score(intent, text, plain)
            if score > 0 and (best is None or (score, intent.priority) > (best.score, best.intent.priority)):
                best = IntentMatch(intent, score, "rule", evidence)
        if best is None and self.semantic:
            best = self._semantic(plain, [i for i in candidates if i.examples and not i.whole_message])
        return best

    def prepare(self) -> None:
        """Embed the intents' examples now (semantic matching only) rather than on the first unmatched message."""
        if not self.semantic:
            return
        try:
            _example_vectors(tuple(e for i in self.rules.intents if i.examples and not i.whole_message for e in i.examples))
        except ImportError:  # the embedding extra is optional: rules alone then
            return

    def _semantic(self, plain: str, candidates: list[Intent]) -> IntentMatch | None:
        try:
            from medai.assistant.safety.embed import embed
        except ImportError:  # the embedding extra is optional: rules alone then
            return None
        try:
            vectors = _example_vectors(tuple(e for i in candidates for e in i.examples))
            query = embed([plain])[0]
        except ImportError:
            return None
        owners = [i for i in candidates for _ in i.examples]
        similarity = vectors @ query
        index = int(np.argmax(similarity)) if len(similarity) else -1
        if index < 0 or similarity[index] < self.rules.semantic_threshold:
            return None
        examples = [e for i in candidates for e in i.examples]
        return IntentMatch(owners[index], float(similarity[index]), "embedding", (examples[index],))


@lru_cache(maxsize=4)
def _example_vectors(examples: tuple[str, ...]) -> np.ndarray:
    from medai.assistant.safety.embed import embed

    return embed(list(examples))
