"""NCBI Disease corpus (Dogan et al. 2014): PubMed abstracts with disease mentions, train and devel splits.

The shared zip holds the original NCBI files and S. Pyysalo's CoNLL conversion; :func:`load` reads the
CoNLL files (``conll/train.tsv``, ``conll/devel.tsv``), one :class:`~medai.datasets.iob.TaggedSentence`
per sentence with ``B-Disease`` / ``I-Disease`` / ``O`` tags. The official test split is held back.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

from medai.datasets.iob import TaggedSentence, read_iob
from medai.datasets.registry import locate

NAME = "ncbi_disease"
FILE = "ncbi_disease_train_devel.zip"
Split = Literal["train", "devel"]


def load(split: Split = "train", root: str | Path | None = None) -> list[TaggedSentence]:
    """The sentences of one split (``train``: 593 abstracts, 5,145 mentions; ``devel``: 100 abstracts, 787)."""
    if split not in ("train", "devel"):
        raise ValueError(f"split must be 'train' or 'devel' (the test split is held back), not {split!r}")
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        text = archive.read(f"conll/{split}.tsv").decode("utf-8")
    return read_iob(text, source=f"{FILE}:conll/{split}.tsv")


def licence_notice(root: str | Path | None = None) -> str:
    """The NLM public-domain notice shipped with the corpus (``original-data/LICENSE``)."""
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        return archive.read("original-data/LICENSE").decode("utf-8")
