"""BC5CDR (BioCreative V CDR task corpus, Li et al. 2016), IOB conversion by Crichton et al. 2017.

:func:`load` reads one variant's train or devel file from the shared zip: ``disease`` (default,
``B-Disease`` / ``I-Disease`` tags), ``chemical`` or ``combined``. The official test files are held back.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

from medai.datasets.iob import TaggedSentence, read_iob
from medai.datasets.registry import locate

NAME = "bc5cdr"
FILE = "bc5cdr_iob_train_devel.zip"
FOLDERS = {"disease": "BC5CDR-disease-IOB", "chemical": "BC5CDR-chem-IOB", "combined": "BC5CDR-IOB"}
Split = Literal["train", "devel"]
Variant = Literal["disease", "chemical", "combined"]


def load(split: Split = "train", variant: Variant = "disease", root: str | Path | None = None) -> list[TaggedSentence]:
    """The sentences of one split and variant (disease: 4,182 train and 4,246 devel mentions)."""
    if split not in ("train", "devel"):
        raise ValueError(f"split must be 'train' or 'devel' (the test split is held back), not {split!r}")
    if variant not in FOLDERS:
        raise ValueError(f"variant must be one of {sorted(FOLDERS)}, not {variant!r}")
    member = f"{FOLDERS[variant]}/{split}.tsv"
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        text = archive.read(member).decode("utf-8")
    return read_iob(text, source=f"{FILE}:{member}")
