"""ICD-10-CM coding of condition mentions: candidates from the code table, scored, billable preferred.

The code table is the CDC ICD-10-CM release shipped offline by ``simple-icd-10-cm`` (1.5.0: the
April 2026 release). Every category and subcategory is indexed by its title and inclusion terms
(without the 7th-character encounter extensions), plus the curated abbreviations and synonyms of
``icd10_synonyms.yaml`` and ``clinical_findings.yaml``. A mention is scored against the index by
exact match of its normalised text (score 1) or else by the mean of two TF-IDF cosine similarities,
over character 3-5-grams and over words (with lexicon rewrites such as "cancer" -> "malignant
neoplasm"). A non-billable category that wins is replaced by its unspecified billable
descendant (``I21`` -> ``I21.9``), so codes are billable where the table allows.

>>> coder = ICD10Coder()
>>> best = coder.code("myocardial infarction")[0]               # doctest: +SKIP
>>> best.code, best.score, best.version                        # doctest: +SKIP
('I21.9', 1.0, '2026')
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

SYSTEM = "ICD-10-CM"
SYSTEM_URI = "http://hl7.org/fhir/sid/icd-10-cm"
RELEASES = {"1.5.0": "2026"}
"""``simple-icd-10-cm`` package version -> ICD-10-CM fiscal-year release it ships."""

_DROP = re.compile(r"\b(unspecified|not otherwise specified|nos|not elsewhere classified|nec)\b")
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Code:
    """One ICD-10-CM code suggested for a mention, with its score and the index text it matched."""

    code: str
    description: str
    score: float
    billable: bool
    matched: str
    system: str = SYSTEM
    version: str = ""

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"code": self.code, "description": self.description, "score": round(self.score, 4),
                "billable": self.billable, "system": self.system, "version": self.version, "matched": self.matched}


def _icd():
    try:
        with warnings.catch_warnings():  # the package reads its data with deprecated importlib calls
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ICD-10-CM coding needs the notes extra: pip install 'medai[notes]'") from exc
    return simple_icd_10_cm


def release() -> str:
    """The ICD-10-CM release of the installed code table, e.g. ``"2026"``."""
    from importlib.metadata import version

    installed = version("simple-icd-10-cm")
    return RELEASES.get(installed, f"simple-icd-10-cm {installed}")


def normalise(text: str) -> str:
    """Lower case, words only; "unspecified", "NOS", "NEC" and the like removed."""
    return " ".join(_NON_WORD.sub(" ", _DROP.sub(" ", text.lower())).split())


def _variants(text: str) -> set[str]:
    """The text normalised, with and without its parenthesised (non-essential) words."""
    return {v for v in (normalise(text), normalise(_PARENS.sub(" ", text))) if v}


def billable_code(code: str) -> str:
    """``code`` when billable; else its unspecified billable descendant when there is one, else ``code``."""
    icd = _icd()
    current = code
    while not icd.is_leaf(current):
        children = icd.get_children(current)
        unspecified = [c for c in children if "unspecified" in icd.get_description(c).lower()]
        if not unspecified:
            return current
        current = sorted(unspecified, key=lambda c: (not c.endswith(("9", "0")), len(c), c))[0]
    return current


@lru_cache(maxsize=1)
def table_entries() -> tuple[tuple[str, str], ...]:
    """``(text, code)`` of every indexed title and inclusion term (7th-character extensions left out)."""
    icd = _icd()
    entries = []
    for code in icd.get_all_codes(with_dots=True):
        if not icd.is_category_or_subcategory(code) or icd.is_extended_subcategory(code):
            continue
        entries.append((icd.get_description(code), code))
        entries += [(term, code) for term in icd.get_inclusion_term(code)]
    return tuple(entries)


def curated_entries() -> list[tuple[str, str]]:
    """``(text, code)`` of the shipped synonym and findings lexicons (all phrases, matchable or not)."""
    from medai.notes.lexicon import shipped_terms

    return [(t.text, t.code) for t in shipped_terms()]


@dataclass
class _Index:
    """Normalised index texts with their codes, exact lookup, and TF-IDF matrices (words and char n-grams,
    hashed into 2**20 features so that the cached index holds no vocabulary)."""

    texts: list[str]
    codes: list[str]
    exact: dict[str, list[str]]
    rewrites: dict[str, str]
    vectorizers: tuple = ()
    matrices: tuple = ()

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str]], rewrites: dict[str, str]) -> _Index:
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        from sklearn.pipeline import make_pipeline

        texts, codes, exact, seen = [], [], {}, set()
        for text, code in entries:
            for variant in _variants(text):
                if (variant, code) not in seen:
                    seen.add((variant, code))
                    texts.append(variant)
                    codes.append(code)
                    exact.setdefault(variant, []).append(code)
        vectorizers = tuple(make_pipeline(HashingVectorizer(**options, n_features=2**20, alternate_sign=False, norm=None,
                                                            dtype=np.float32), TfidfTransformer(sublinear_tf=sublinear))
                            for options, sublinear in (({"analyzer": "char_wb", "ngram_range": (3, 5)}, True),
                                                       ({"analyzer": "word", "token_pattern": r"[a-z0-9]+"}, False)))
        matrices = tuple(v.fit_transform(texts).T.tocsr() for v in vectorizers)
        return cls(texts, codes, exact, rewrites, vectorizers, matrices)

    def similarity(self, queries: list[str]) -> np.ndarray:
        """``[queries, texts]`` mean of the character and word cosine similarities (queries rewritten
        word by word with the lexicon's rewrites, best of original and rewritten)."""
        best = self._cosine(queries)
        rewritten = [" ".join(self.rewrites.get(w, w) for w in q.split()) for q in queries]
        changed = [i for i, (q, r) in enumerate(zip(queries, rewritten, strict=True)) if q != r]
        if changed:
            best[changed] = np.maximum(best[changed], self._cosine([rewritten[i] for i in changed]))
        return best

    def _cosine(self, queries: list[str]) -> np.ndarray:
        total = None
        for vectorizer, matrix in zip(self.vectorizers, self.matrices, strict=True):
            part = vectorizer.transform(queries) @ matrix
            total = part if total is None else total + part
        dense = total.toarray()
        dense *= 1.0 / len(self.matrices)
        return dense


CACHE_FORMAT = "2"


def cached_index(extra: tuple[tuple[str, str], ...] = ()) -> _Index:
    """The index for the installed table, the shipped lexicons and ``extra``; built once (about a minute
    on 2 cores) and kept in ``$MEDAI_HOME/cache`` keyed by a hash of everything it was built from."""
    import hashlib
    import pickle

    from medai.config import get_settings
    from medai.notes.lexicon import shipped_rewrites

    curated = [*extra, *curated_entries()]
    rewrites = shipped_rewrites()
    key = hashlib.sha256(repr((CACHE_FORMAT, release(), curated, sorted(rewrites.items()))).encode()).hexdigest()[:20]
    path = get_settings().home / "cache" / f"icd10-index-{key}.pkl"
    if path.is_file():
        try:
            with path.open("rb") as handle:
                return pickle.load(handle)
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt
            pass
    index = _Index.build([*curated, *table_entries()], rewrites)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)
    except OSError:
        pass
    return index


class ICD10Coder:
    """Suggests ICD-10-CM codes for mention texts (see the module docstring for the method).

    ``top_k`` codes are returned per mention, best first, each at least ``min_score``.
    ``extra`` adds ``(text, code)`` pairs (a site's own synonyms) that rank like the curated ones.
    """

    def __init__(self, top_k: int = 3, min_score: float = 0.5, extra: Sequence[tuple[str, str]] = ()) -> None:
        self.top_k = top_k
        self.min_score = min_score
        self.extra = tuple(extra)

    @cached_property
    def version_(self) -> str:
        """ICD-10-CM release of the code table."""
        return release()

    @cached_property
    def _index(self) -> _Index:
        """The search index: loaded from the user cache when an identical one was built before."""
        return cached_index(tuple(self.extra))

    def code(self, mention: str) -> list[Code]:
        """The best codes for one mention text, best first (empty when nothing scores ``min_score``)."""
        return self.code_many([mention])[0]

    def code_many(self, mentions: Iterable[str]) -> list[list[Code]]:
        """:meth:`code` for many mentions; new texts are searched in one sparse product, repeats are
        answered from a per-coder memo (notes repeat their mentions)."""
        index = self._index
        keys = [_exact_form(normalise(m), index.exact) for m in mentions]
        memo = self._memo
        new = list(dict.fromkeys(k for k in keys if k not in memo))
        fuzzy = [k for k in new if k and k not in index.exact]
        similarity = index.similarity(fuzzy) if fuzzy else np.zeros((0, len(index.texts)), dtype=np.float32)
        rows = dict(zip(fuzzy, similarity, strict=True))
        for key in new:
            if key in index.exact:
                memo[key] = self._codes([(code, 1.0, key) for code in index.exact[key]])
            elif key in rows:
                memo[key] = self._codes(self._ranked(rows[key]))
            else:
                memo[key] = []
        return [list(memo[k]) for k in keys]

    @cached_property
    def _memo(self) -> dict[str, list[Code]]:
        return {}

    def _ranked(self, row: np.ndarray) -> list[tuple[str, float, str]]:
        """The best index entries of one similarity row, at least ``min_score``, best first."""
        index = self._index
        n = min(self.top_k * 8, len(row))
        top = np.argpartition(-row, n - 1)[:n]
        top = top[np.argsort(-row[top], kind="stable")]
        return [(index.codes[j], float(row[j]), index.texts[j]) for j in top if row[j] >= self.min_score]

    def _codes(self, ranked: list[tuple[str, float, str]]) -> list[Code]:
        icd = _icd()
        out: dict[str, Code] = {}
        for code, score, matched in ranked:
            chosen = billable_code(code)
            if chosen not in out:
                out[chosen] = Code(chosen, icd.get_description(chosen), score, icd.is_leaf(chosen), matched,
                                   version=self.version_)
            if len(out) == self.top_k:
                break
        return list(out.values())


def _exact_form(key: str, exact: dict[str, list[str]]) -> str:
    """``key``, or its singular when only that is an index text (``nodules`` -> ``nodule``)."""
    if key not in exact and key.endswith("s") and key[:-1] in exact:
        return key[:-1]
    return key


@lru_cache(maxsize=1)
def default_coder() -> ICD10Coder:
    """A shared coder over the shipped table and lexicons (its index is built on first use)."""
    return ICD10Coder()
