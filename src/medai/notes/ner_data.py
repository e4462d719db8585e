"""Inputs of the condition tagger: word splitting of raw text, IOB labels, and word-piece windows.

The tagger labels words (first word piece of each word carries the label). Training and prediction
share :func:`encode_words`, so both see exactly the same word pieces; raw text is split into words
with :func:`word_spans`, which mimics the tokenisation of the NCBI / BC5CDR CoNLL files (runs of
letters and digits, and every other non-space character on its own).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

LABELS = ("O", "B", "I")
"""Label ids of the tagger: 0 outside, 1 begins a condition mention, 2 continues one."""
IGNORE = -100
"""Label id of word pieces that carry no label (continuations, [CLS], [SEP], padding)."""

_WORD = re.compile(r"[^\W_]+|[^\w\s]|_", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[A-Z][A-Z /&-]{2,}:)")


@dataclass(frozen=True)
class Window:
    """Word pieces of a run of words: ids with [CLS]/[SEP], and for each piece its word index or -1."""

    input_ids: list[int]
    word_index: list[int]
    first_word: int
    n_words: int


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the words of ``text`` in the CoNLL tokenisation style."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences: split after ``.!?`` before a capital, at blank lines and before
    ``HEADING:`` lines. Leading and trailing whitespace of each sentence is excluded; empty ones dropped."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def iob_to_ids(tags: Sequence[str]) -> list[int]:
    """``O`` / ``B-X`` / ``I-X`` tags to label ids (mention types are merged into one condition type)."""
    return [0 if t == "O" else 1 if t.startswith("B-") else 2 for t in tags]


def ids_to_iob(ids: Sequence[int], kind: str = "Disease") -> list[str]:
    """Label ids back to IOB tags; an ``I`` that follows ``O`` is read as ``B`` (a mention must start)."""
    tags, previous = [], 0
    for label in ids:
        if label == 2 and previous == 0:
            label = 1
        tags.append("O" if label == 0 else f"{'B' if label == 1 else 'I'}-{kind}")
        previous = label
    return tags


def encode_words(tokenizer, words: Sequence[str], max_len: int = 128, prefix: Sequence[int] = ()) -> list[Window]:
    """Split ``words`` into windows of at most ``max_len`` word pieces (with [CLS] and [SEP]).

    ``tokenizer`` is a :class:`tokenizers.Tokenizer` with padding and truncation off. A window never
    splits a word; a single word longer than the window keeps only its first pieces. ``prefix`` ids
    (an annotation-style marker) follow [CLS] in every window and carry no label.
    """
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    pieces = word_pieces(tokenizer, words)
    windows, start, budget = [], 0, max_len - 2 - len(prefix)
    while start < len(words) or not windows:
        ids, index, end = [cls_id, *prefix], [-1] * (1 + len(prefix)), start
        while end < len(words) and (len(ids) - 1 - len(prefix) + len(pieces[end]) <= budget or end == start):
            kept = pieces[end][:budget]
            ids += kept
            index += [end] + [-1] * (len(kept) - 1)
            end += 1
        windows.append(Window(ids + [sep_id], index + [-1], start, end - start))
        start = end
        if not words:
            break
    return windows


def word_pieces(tokenizer, words: Sequence[str]) -> list[list[int]]:
    """The word-piece ids of each word (one tokenizer call; a word with no pieces becomes [UNK])."""
    pieces: list[list[int]] = [[] for _ in words]
    if words:
        encoding = tokenizer.encode(list(words), is_pretokenized=True, add_special_tokens=False)
        for piece, word in zip(encoding.ids, encoding.word_ids, strict=True):
            if word is not None:
                pieces[word].append(piece)
    unk = tokenizer.token_to_id("[UNK]")
    return [p or [unk] for p in pieces]


def window_labels(window: Window, label_ids: Sequence[int]) -> list[int]:
    """Per-piece training labels of a window: the word's label on its first piece, else :data:`IGNORE`."""
    return [label_ids[i] if i >= 0 else IGNORE for i in window.word_index]
