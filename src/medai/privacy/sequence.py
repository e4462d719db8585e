"""The shipped PHI tagger: a BiLSTM over MiniLM token embeddings and the linear tagger's logits.

Stacking: the linear tagger (``tagger.DeidTagger``, hashed lexical/rule features) scores every
token; its out-of-fold logits on the training notes and the contextual MiniLM embeddings are the
inputs of a one-layer bidirectional LSTM that outputs the class of each token. At prediction time
the linear tagger fitted on all training notes supplies the logits.

Package files: ``linear.safetensors`` + ``tagger.json`` (the linear tagger), ``head.safetensors``
(the BiLSTM) and ``sequence.json`` (settings, the encoder's name and weights sha256).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medai.privacy.encoder import DIM, ENCODER_NAME, encoder_sha256, token_embeddings
from medai.privacy.features import tokenize
from medai.privacy.phi import PHISpan
from medai.privacy.tagger import CLASSES, MODEL_NAME, DeidTagger

N_CLASSES = len(CLASSES)
LOGIT_SCALE = 5.0


def _head(hidden: int):
    import torch

    class BiLSTMHead(torch.nn.Module):
        """Dropout -> BiLSTM -> linear over [LSTM states, linear logits]."""

        def __init__(self) -> None:
            super().__init__()
            self.drop = torch.nn.Dropout(0.2)
            self.lstm = torch.nn.LSTM(DIM + N_CLASSES, hidden, batch_first=True, bidirectional=True)
            self.out = torch.nn.Linear(2 * hidden + N_CLASSES, N_CLASSES)

        def forward(self, x):
            states, _ = self.lstm(self.drop(x))
            return self.out(torch.cat([states, x[..., -N_CLASSES:] * LOGIT_SCALE], -1))

    return BiLSTMHead()


def _inputs(embeddings: np.ndarray, logits: np.ndarray) -> np.ndarray:
    return np.concatenate([embeddings, np.clip(logits, -20, 20) / LOGIT_SCALE], axis=1).astype(np.float32)


def train_head(inputs: Sequence[np.ndarray], labels: Sequence[np.ndarray], hidden: int = 128, epochs: int = 4,
               phi_weight: float = 3.0, lr: float = 2e-3, seed: int = 0, chunk: int = 200) -> dict:
    """Fit a BiLSTM head on per-note (tokens x features) inputs and class indices; return its state dict."""
    import torch

    torch.manual_seed(seed)
    net = _head(hidden)
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    weight = torch.tensor([1.0] + [phi_weight] * (N_CLASSES - 1))
    pieces = [(torch.from_numpy(x[i:i + chunk]), torch.from_numpy(y[i:i + chunk]))
              for x, y in zip(inputs, labels) for i in range(0, len(x), chunk) if len(x)]
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        net.train()
        order = rng.permutation(len(pieces))
        for b in range(0, len(order), 16):
            batch = [pieces[i] for i in order[b:b + 16]]
            xs = torch.nn.utils.rnn.pad_sequence([p[0] for p in batch], batch_first=True)
            ys = torch.nn.utils.rnn.pad_sequence([p[1] for p in batch], batch_first=True, padding_value=-100)
            loss = torch.nn.functional.cross_entropy(net(xs).reshape(-1, N_CLASSES), ys.reshape(-1), weight=weight,
                                                     ignore_index=-100)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def head_proba(state: dict, hidden: int, x: np.ndarray) -> np.ndarray:
    """Class probabilities (tokens x classes) of one note."""
    import torch

    if len(x) == 0:
        return np.zeros((0, N_CLASSES))
    net = _head(hidden)
    net.load_state_dict(state)
    net.eval()
    with torch.inference_mode():
        return torch.softmax(net(torch.from_numpy(x)[None])[0], -1).numpy()


class DeidSequenceTagger:
    """Linear tagger + MiniLM + BiLSTM head (scikit-learn contract; learned state ends in ``_``)."""

    def __init__(self, hidden: int = 128, epochs: int = 4, phi_weight: float = 3.0, n_folds: int = 3,
                 threshold: float = 0.5, hinted_threshold: float = 0.3, seed: int = 0, linear: dict | None = None,
                 name: str = MODEL_NAME, version: str = "1.0.0",
                 type_thresholds: dict[str, list[float]] | None = None):
        self.hidden = hidden
        self.epochs = epochs
        self.phi_weight = phi_weight
        self.n_folds = n_folds
        self.threshold = threshold
        self.hinted_threshold = hinted_threshold
        self.seed = seed
        self.linear = linear
        self.name = name
        self.version = version
        self.type_thresholds = type_thresholds

    def _linear_params(self) -> dict:
        return {"C": 4.0, "phi_weight": 3.0, **(self.linear or {}), "name": self.name, "version": self.version}

    def oof_inputs(self, texts: Sequence[str], spans: Sequence, groups: Sequence) -> tuple[list, list, DeidTagger]:
        """Per-note head inputs with out-of-fold linear logits, labels, and the linear tagger fitted on all."""
        keys = sorted(set(groups))
        folds = [set(keys[i::self.n_folds]) for i in range(self.n_folds)]
        logits: list[np.ndarray | None] = [None] * len(texts)
        for held in folds:
            fit_idx = [i for i, g in enumerate(groups) if g not in held]
            linear = DeidTagger(**self._linear_params()).fit([texts[i] for i in fit_idx], [spans[i] for i in fit_idx])
            for i, g in enumerate(groups):
                if g in held:
                    logits[i] = linear.token_logits(texts[i])
        inputs, labels = [], []
        for text, gold, logit in zip(texts, spans, logits):
            tokens = tokenize(text)
            inputs.append(_inputs(token_embeddings(text, tokens), logit))
            labels.append(np.array([CLASSES.index(c) for c in DeidTagger.token_labels(tokens, gold)], dtype=np.int64))
        full = DeidTagger(**self._linear_params()).fit(texts, spans)
        return inputs, labels, full

    def fit(self, texts: Sequence[str], spans: Sequence, groups: Sequence | None = None,
            prepared: tuple | None = None) -> DeidSequenceTagger:
        """Fit on texts and gold spans ``(start, end, type)``; ``groups`` (patients) keep folds apart."""
        inputs, labels, linear = prepared or self.oof_inputs(texts, spans, groups or list(range(len(texts))))
        self.linear_ = linear
        self.head_ = train_head(inputs, labels, self.hidden, self.epochs, self.phi_weight, seed=self.seed)
        return self

    def token_proba(self, text: str, rule_spans: Sequence[PHISpan] | None = None):
        """Tokens and class probabilities (tokens x ``CLASSES``)."""
        if not hasattr(self, "head_"):
            raise RuntimeError("DeidSequenceTagger is not fitted: call fit(...) or from_package()")
        tokens, logits = self.linear_.token_logits(text, rule_spans, with_tokens=True)
        x = _inputs(token_embeddings(text, tokens), logits)
        return tokens, head_proba(self.head_, self.hidden, x)

    def predict(self, text: str) -> list[PHISpan]:
        """PHI spans of the tagger alone (tokens a weak rule points at use the hinted threshold)."""
        from medai.privacy.tagger import hinted_tokens

        detector = self.linear_._detector()
        hits = detector.find(text)
        tokens, proba = self.token_proba(text, hits)
        return self.spans_from_proba(text, tokens, proba, hinted=hinted_tokens(tokens, detector.weak_hits(hits)))

    def spans_from_proba(self, text: str, tokens, proba, threshold: float | None = None, hinted=None,
                         hinted_threshold: float | None = None, bounds: Sequence[PHISpan] = (),
                         type_thresholds: dict[str, Sequence[float]] | None = None) -> list[PHISpan]:
        """Spans at this tagger's thresholds, bounded by rule hits (see ``DeidTagger.spans_from_proba``)."""
        return self.linear_.spans_from_proba(
            text, tokens, proba, self.threshold if threshold is None else threshold, hinted,
            self.hinted_threshold if hinted_threshold is None else hinted_threshold, bounds,
            self.type_thresholds if type_thresholds is None else type_thresholds)

    def to_files(self) -> dict[str, bytes]:
        """The package files: the linear tagger's two, ``head.safetensors`` and ``sequence.json``."""
        from safetensors.torch import save

        files = {f"linear/{k}": v for k, v in self.linear_.to_files().items()}
        files["head.safetensors"] = save({k: v.contiguous() for k, v in self.head_.items()})
        config = {k: getattr(self, k) for k in ("hidden", "epochs", "phi_weight", "n_folds", "threshold",
                                                "hinted_threshold", "seed", "linear", "name", "version", "type_thresholds")}
        config.update(encoder=ENCODER_NAME, encoder_sha256=encoder_sha256(), classes=list(CLASSES))
        files["sequence.json"] = json.dumps(config, indent=1).encode()
        return files

    @classmethod
    def from_dir(cls, folder: Path, file=lambda rel: rel) -> DeidSequenceTagger:
        """Rebuild from package files; ``file`` maps a relative path to its verified location."""
        from safetensors.torch import load_file

        config = json.loads(Path(file("sequence.json")).read_text())
        if tuple(config.pop("classes")) != CLASSES:
            raise ValueError("sequence.json: classes differ from this medai version's")
        expected = config.pop("encoder_sha256")
        config.pop("encoder")
        if encoder_sha256() != expected:
            raise ValueError(f"the installed {ENCODER_NAME} weights differ from those the tagger was trained with")
        tagger = cls(**config)
        tagger.linear_ = DeidTagger.from_files(Path(file("linear/tagger.safetensors")), Path(file("linear/tagger.json")))
        tagger.head_ = load_file(str(file("head.safetensors")))
        return tagger

    @classmethod
    def from_package(cls, name: str = MODEL_NAME) -> DeidSequenceTagger:
        """The installed ``deid-tagger`` package, hash-checked by the model registry."""
        from medai.models import default_registry

        package = default_registry().get(name)
        return cls.from_dir(package.path, package.file)
