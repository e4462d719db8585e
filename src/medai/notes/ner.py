"""The learned condition-mention tagger: a fine-tuned MiniLM word tagger (IOB) run with onnxruntime.

>>> tagger = ConditionTagger()                                     # doctest: +SKIP
>>> tagger.find("Patient with congestive heart failure and fever.")  # doctest: +SKIP
[TaggedSpan(start=13, end=37, score=0.99)]

The shipped package ``condition-ner-1.0.0`` was trained on NCBI Disease and BC5CDR (disease) train
splits; its card gives the devel scores. Words are split with :func:`~medai.notes.ner_data.word_spans`
and sentences with :func:`~medai.notes.ner_data.sentence_spans`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from medai.datasets.iob import spans
from medai.notes.ner_data import LABELS, Window, encode_words, ids_to_iob, sentence_spans, word_spans

MODEL_NAME = "condition-ner"
MODEL_VERSION = "1.0.0"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "ner.json"

LogitsFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(input_ids, attention_mask)`` int64 ``[batch, length]`` -> logits ``[batch, length, labels]``."""


@dataclass(frozen=True)
class TaggedSpan:
    """A condition mention found by the tagger: character offsets and the mean word confidence."""

    start: int
    end: int
    score: float


def shipped_package_dir() -> Path:
    """Folder of the shipped tagger package inside ``medai/assets/models``."""
    return Path(__file__).resolve().parent.parent / "assets" / "models" / f"{MODEL_NAME}-{MODEL_VERSION}"


def load_tokenizer(path: str | os.PathLike[str]):
    """A :class:`tokenizers.Tokenizer` from ``tokenizer.json`` with padding and truncation off."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def word_probabilities(logits_fn: LogitsFn, tokenizer, sentences: Sequence[Sequence[str]], max_len: int = 128,
                       batch_size: int = 32, prefix: Sequence[int] = ()) -> list[np.ndarray]:
    """Label probabilities ``[words, 3]`` of every sentence, read on the first word piece of each word.

    Windows of all sentences are sorted by length and run in batches, so padding stays small.
    ``prefix``: word-piece ids of an annotation-style marker put after [CLS] (see :class:`ConditionTagger`).
    """
    windows: list[tuple[int, Window]] = [(i, w) for i, words in enumerate(sentences)
                                         for w in encode_words(tokenizer, words, max_len, prefix)]
    out = [np.zeros((len(words), len(LABELS)), dtype=np.float32) for words in sentences]
    order = sorted(range(len(windows)), key=lambda k: len(windows[k][1].input_ids))
    for begin in range(0, len(order), batch_size):
        batch = [windows[k] for k in order[begin:begin + batch_size]]
        length = max(len(w.input_ids) for _, w in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, (_, w) in enumerate(batch):
            ids[row, :len(w.input_ids)] = w.input_ids
            mask[row, :len(w.input_ids)] = 1
        probs = _softmax(logits_fn(ids, mask))
        for row, (sentence, w) in enumerate(batch):
            positions = [p for p, word in enumerate(w.word_index) if word >= 0]
            out[sentence][[w.word_index[p] for p in positions]] = probs[row, positions]
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def decode(probabilities: np.ndarray) -> list[str]:
    """IOB tags (``B-Disease`` / ``I-Disease`` / ``O``) of one sentence from its word probabilities."""
    return ids_to_iob(probabilities.argmax(axis=-1).tolist()) if len(probabilities) else []


class ConditionTagger:
    """Finds condition mentions (diseases, disorders, findings) in text with the packaged ONNX model.

    ``package`` is a model-package folder (default: the shipped ``condition-ner-1.0.0``); loading checks
    its hashes. ``threads`` caps onnxruntime's intra-op threads (default: its own choice). A tagger
    trained on several corpora with style markers follows the annotation conventions of ``style``
    (one of ``config_["styles"]``; default: the package's ``default_style``).
    """

    def __init__(self, package: str | os.PathLike[str] | None = None, threads: int | None = None,
                 batch_size: int = 16, style: str | None = None) -> None:
        self.package = package
        self.threads = threads
        self.batch_size = batch_size
        self.style = style

    @cached_property
    def package_(self):
        """The verified :class:`~medai.models.ModelPackage`."""
        from medai.models import load_package

        return load_package(self.package or shipped_package_dir())

    @cached_property
    def config_(self) -> dict:
        """The tagger settings stored in the package (``max_len``, labels, training recipe)."""
        return json.loads(self.package_.file(CONFIG_FILE).read_text())

    @cached_property
    def tokenizer_(self):
        """The word-piece tokenizer shipped in the package."""
        return load_tokenizer(self.package_.file(TOKENIZER_FILE))

    @cached_property
    def session_(self):
        """The onnxruntime inference session."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.package_.file(ONNX_FILE)), options, providers=["CPUExecutionProvider"])

    def _logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session_.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]

    @cached_property
    def prefix_(self) -> list[int]:
        """Word-piece ids of the style marker (empty for a tagger trained without markers)."""
        styles = self.config_.get("styles") or {}
        style = self.style or self.config_.get("default_style")
        if not styles:
            return []
        if style not in styles:
            raise ValueError(f"style {style!r} is not one this tagger was trained with: {sorted(styles)}")
        return [self.tokenizer_.token_to_id(styles[style])]

    def probabilities(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Label probabilities per word of each pre-split sentence."""
        return word_probabilities(self._logits, self.tokenizer_, sentences, self.config_.get("max_len", 128),
                                  self.batch_size, self.prefix_)

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """IOB tags for pre-split sentences (lists of words), as in the CoNLL corpora."""
        return [decode(p) for p in self.probabilities(sentences)]

    def find(self, text: str) -> list[TaggedSpan]:
        """Condition mentions in raw text, as character spans with a confidence in [0, 1]."""
        return self.find_many([text])[0]

    def find_many(self, texts: Sequence[str]) -> list[list[TaggedSpan]]:
        """:meth:`find` for several texts, batched together."""
        sentences: list[tuple[int, list[tuple[int, int]]]] = []
        for t, text in enumerate(texts):
            for s, e in sentence_spans(text):
                sentences.append((t, [(s + a, s + b) for a, b in word_spans(text[s:e])]))
        probs = self.probabilities([[texts[t][a:b] for a, b in words] for t, words in sentences])
        found: list[list[TaggedSpan]] = [[] for _ in texts]
        for (t, words), p in zip(sentences, probs, strict=True):
            found[t].extend(_spans_of(words, p))
        return found


def _spans_of(words: list[tuple[int, int]], probabilities: np.ndarray) -> list[TaggedSpan]:
    confidence = probabilities.max(axis=-1) if len(probabilities) else probabilities
    return [TaggedSpan(words[a][0], words[b - 1][1], float(confidence[a:b].mean()))
            for a, b, _ in spans(decode(probabilities))]
