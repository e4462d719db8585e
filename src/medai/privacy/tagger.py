"""The learned PHI tagger: multinomial logistic regression over hashed token features.

Trained on the PhysioNet deid notes (see ``train.py``), it labels each token ``O`` or a PHI type
and turns runs of PHI tokens into spans. Weights live in ``tagger.safetensors`` and the settings
in ``tagger.json`` of the ``deid-tagger`` ModelPackage; no pickles.

>>> tagger = DeidTagger.from_package()                            # doctest: +SKIP
>>> tagger.predict("Spoke with daughter Suzette today")            # doctest: +SKIP
[PHISpan(start=20, end=27, type=<PHIType.NAME: 'NAME'>, text='Suzette', source='tagger:deid-tagger@1.0.0', ...)]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medai.privacy.features import token_features, tokenize
from medai.privacy.lexicons import Lexicons
from medai.privacy.phi import PHISpan, PHIType
from medai.privacy.rules import RuleDetector

CLASSES = ("O", "NAME", "DATE", "LOCATION", "PHONE", "AGE", "ID")
MODEL_NAME = "deid-tagger"


class DeidTagger:
    """Token classifier (scikit-learn contract: params in ``__init__``, learned state ends in ``_``).

    ``threshold`` is the probability of "any PHI" above which a token is redacted; it is chosen
    low for recall (see ``train.py``).
    """

    def __init__(self, n_features: int = 2**18, C: float = 4.0, threshold: float = 0.5, hinted_threshold: float = 0.5,
                 max_iter: int = 300, phi_weight: float = 1.0, name: str = MODEL_NAME, version: str = "1.0.0"):
        self.n_features = n_features
        self.C = C
        self.phi_weight = phi_weight
        self.threshold = threshold
        self.hinted_threshold = hinted_threshold
        self.max_iter = max_iter
        self.name = name
        self.version = version

    # -- features -------------------------------------------------------------------------
    def _detector(self) -> RuleDetector:
        if not hasattr(self, "_rules"):
            self._rules = RuleDetector()
        return self._rules

    def _lexicons(self) -> Lexicons:
        return self._detector().lexicons

    def _matrix(self, texts: Sequence[str], rule_spans: Sequence[Sequence[PHISpan]] | None = None):
        """Sparse feature matrix of all tokens of ``texts``, the tokens per text and the rule hits per text."""
        from scipy.sparse import vstack
        from sklearn.feature_extraction import FeatureHasher

        hasher = FeatureHasher(n_features=self.n_features, input_type="string", alternate_sign=False)
        detector = self._detector()
        stop = frozenset(w.lower() for w in detector.rules.stopwords)
        blocks, token_lists, hit_lists = [], [], []
        for i, text in enumerate(texts):
            tokens = tokenize(text)
            hits = detector.find(text) if rule_spans is None else list(rule_spans[i])
            token_lists.append(tokens)
            hit_lists.append(hits)
            feats = token_features(text, tokens, hits, self._lexicons(), stop)
            blocks.append(hasher.transform(feats) if feats else hasher.transform([["bias"]])[:0])
        return vstack(blocks).tocsr(), token_lists, hit_lists

    # -- training -------------------------------------------------------------------------
    @staticmethod
    def token_labels(tokens: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str]]) -> list[str]:
        """The class of each token: the PHI type of the gold span overlapping it, else ``O``."""
        labels = ["O"] * len(tokens)
        for start, end, kind in spans:
            for i, (s, e) in enumerate(tokens):
                if s < end and e > start:
                    labels[i] = kind
        return labels

    def fit(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int, str]]]) -> DeidTagger:
        """Fit on texts and their gold spans ``(start, end, type)`` (types among ``CLASSES``)."""
        from sklearn.linear_model import LogisticRegression

        X, token_lists, _ = self._matrix(texts)
        y = [label for tokens, gold in zip(token_lists, spans) for label in self.token_labels(tokens, gold)]
        unknown = sorted(set(y) - set(CLASSES))
        if unknown:
            raise ValueError(f"unknown span types {unknown}; expected some of {CLASSES}")
        model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        model.fit(X, y, sample_weight=np.where(np.asarray(y) == "O", 1.0, self.phi_weight))
        classes = list(model.classes_)
        weights, intercepts = model.coef_, model.intercept_
        if len(classes) == 2:  # binary: sklearn keeps one row, the logit of classes[1] against classes[0]
            weights = np.vstack([np.zeros_like(weights[0]), weights[0]])
            intercepts = np.array([0.0, intercepts[0]])
        coef = np.zeros((len(CLASSES), self.n_features), dtype=np.float32)
        bias = np.full(len(CLASSES), -1e4, dtype=np.float32)
        for row, name in enumerate(CLASSES):
            if name in classes:
                coef[row] = weights[classes.index(name)]
                bias[row] = intercepts[classes.index(name)]
        self.coef_, self.intercept_ = coef, bias
        return self

    # -- prediction -----------------------------------------------------------------------
    def token_proba(self, text: str, rule_spans: Sequence[PHISpan] | None = None
                    ) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Tokens of ``text`` and their class probabilities (tokens x ``CLASSES``).

        ``rule_spans`` are the rule hits of ``text`` when the caller already has them.
        """
        tokens, logits = self.token_logits(text, rule_spans, with_tokens=True)
        if not tokens:
            return tokens, np.zeros((0, len(CLASSES)))
        logits = logits - logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return tokens, proba / proba.sum(axis=1, keepdims=True)

    def token_logits(self, text: str, rule_spans: Sequence[PHISpan] | None = None, with_tokens: bool = False):
        """Class logits (tokens x ``CLASSES``), with the tokens when ``with_tokens``."""
        self._check_fitted()
        X, (tokens,), _ = self._matrix([text], None if rule_spans is None else [rule_spans])
        logits = np.asarray(X @ self.coef_.T + self.intercept_, dtype=np.float32) if tokens else np.zeros((0, len(CLASSES)), np.float32)
        return (tokens, logits) if with_tokens else logits

    def predict(self, text: str) -> list[PHISpan]:
        """The tagger's own PHI spans: runs of tokens whose P(PHI) reaches ``threshold``, joined across
        spaces and ``/-.'``, cut at sentence punctuation (the pipeline also bounds them by rule hits)."""
        detector = self._detector()
        hits = detector.find(text)
        tokens, proba = self.token_proba(text, hits)
        return self.spans_from_proba(text, tokens, proba, hinted=hinted_tokens(tokens, detector.weak_hits(hits)))

    def spans_from_proba(self, text: str, tokens: Sequence[tuple[int, int]], proba: np.ndarray,
                         threshold: float | None = None, hinted: Sequence[bool] | None = None,
                         hinted_threshold: float | None = None, bounds: Sequence[PHISpan] = (),
                         type_thresholds: dict[str, Sequence[float]] | None = None) -> list[PHISpan]:
        """Turn token probabilities into spans at ``threshold`` (default: the fitted one).

        Tokens a weak rule points at (``hinted``) need only ``hinted_threshold`` (default: the
        fitted ``hinted_threshold``). ``type_thresholds`` (PHI type -> ``[threshold, hinted threshold]``,
        default: the tagger's ``type_thresholds`` if it has them) replace both for tokens whose most
        likely PHI type is listed. Tokens inside ``bounds`` (standalone rule
        hits) are left to the rules; spans never cross them or sentence punctuation and never begin
        or end with a stop, common or clinical word (see ``bounds.bounded_runs``).
        """
        from medai.privacy.bounds import bounded_runs, covered_tokens, is_clock_time

        threshold = self.threshold if threshold is None else threshold
        low = getattr(self, "hinted_threshold", threshold) if hinted_threshold is None else hinted_threshold
        if not len(tokens):
            return []
        phi = 1.0 - proba[:, 0]
        limits = np.full(len(tokens), threshold)
        pinned = np.zeros(len(tokens), dtype=bool) if hinted is None else np.asarray(hinted, dtype=bool)
        limits[pinned] = min(low, threshold)
        per_type = type_thresholds if type_thresholds is not None else getattr(self, "type_thresholds", None)
        if per_type:
            best = np.argmax(proba[:, 1:], axis=1) + 1
            for kind, (plain, with_hint) in per_type.items():
                chosen = best == CLASSES.index(kind)
                limits[chosen & ~pinned] = plain
                limits[chosen & pinned] = min(plain, with_hint)
        lex = self._lexicons()
        stop = frozenset(w.lower() for w in self._detector().rules.stopwords)
        runs = bounded_runs(text, tokens, phi >= limits, _joinable, covered_tokens(tokens, bounds), pinned, lex, stop)
        spans = [self._span(text, tokens, proba, run) for run in runs]
        return [s for s in spans if not (s.type is PHIType.DATE and is_clock_time(text, s.start, s.end))]

    def _span(self, text: str, tokens, proba: np.ndarray, run: list[int]) -> PHISpan:
        start, end = tokens[run[0]][0], tokens[run[-1]][1]
        mean = proba[run].mean(axis=0)
        kind = CLASSES[1 + int(np.argmax(mean[1:]))]
        return PHISpan(start, end, PHIType(kind), text[start:end], f"tagger:{self.name}@{self.version}",
                       float(1.0 - mean[0]))

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("DeidTagger is not fitted: call fit(...) or load it with DeidTagger.from_package()")

    # -- persistence ----------------------------------------------------------------------
    def to_files(self) -> dict[str, bytes]:
        """``tagger.safetensors`` (coef, intercept) and ``tagger.json`` (settings) for a ModelPackage."""
        from safetensors.numpy import save

        self._check_fitted()
        config = {"n_features": self.n_features, "C": self.C, "threshold": self.threshold,
                  "hinted_threshold": self.hinted_threshold, "max_iter": self.max_iter,
                  "phi_weight": self.phi_weight,
                  "name": self.name, "version": self.version, "classes": list(CLASSES),
                  "features": "medai.privacy.features.token_features, FeatureHasher(alternate_sign=False)"}
        weights = save({"coef": self.coef_.astype(np.float16), "intercept": self.intercept_})
        return {"tagger.safetensors": weights, "tagger.json": json.dumps(config, indent=1).encode()}

    @classmethod
    def from_files(cls, weights: Path, config: Path) -> DeidTagger:
        """Rebuild a tagger from the two package files."""
        from safetensors.numpy import load_file

        settings = json.loads(config.read_text())
        if tuple(settings.pop("classes")) != CLASSES:
            raise ValueError(f"{config}: classes differ from this medai version's {CLASSES}")
        settings.pop("features", None)
        tagger = cls(**settings)
        tensors = load_file(str(weights))
        tagger.coef_ = tensors["coef"].astype(np.float32)
        tagger.intercept_ = tensors["intercept"].astype(np.float32)
        return tagger

    @classmethod
    def from_package(cls, name: str = MODEL_NAME):
        """The installed (shipped or user) ``deid-tagger`` package, hash-checked: the sequence tagger
        when the package has a head (``sequence.json``), else the linear tagger alone."""
        from medai.models import default_registry

        package = default_registry().get(name)
        if "sequence.json" in package.manifest.files:
            from medai.privacy.sequence import DeidSequenceTagger

            return DeidSequenceTagger.from_dir(package.path, package.file)
        return cls.from_files(package.file("tagger.safetensors"), package.file("tagger.json"))


def hinted_tokens(tokens: Sequence[tuple[int, int]], hits: Sequence[PHISpan]) -> list[bool]:
    """Which tokens a rule or lexicon hit overlaps (they get the lower, hinted threshold)."""
    flags = [False] * len(tokens)
    for i, (s, e) in enumerate(tokens):
        flags[i] = any(h.start < e and h.end > s for h in hits)
    return flags


def _joinable(gap: str) -> bool:
    """Whether two PHI tokens separated by ``gap`` belong to one span."""
    return len(gap) <= 2 and all(c in " /-.'" for c in gap)
