"""MTSamples transcribed medical sample reports (mtsamples.com crawl of 2018), the shared ~80% split.

``mtsamples_train.zip`` holds ``mtsamples_train.csv`` with the Kaggle columns (unnamed index,
description, medical_specialty, sample_name, transcription, keywords) plus ``source_url``. The same
report is often listed under several specialties; :func:`distinct_notes` keeps one copy of each.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from medai.datasets.registry import locate

NAME = "mtsamples"
FILE = "mtsamples_train.zip"
MEMBER = "mtsamples_train.csv"


@dataclass(frozen=True)
class Sample:
    """One listed sample report."""

    index: str
    specialty: str
    sample_name: str
    description: str
    transcription: str
    keywords: str
    source_url: str


def read_csv(text: str) -> list[Sample]:
    """Parse the CSV text; rows with an empty transcription are skipped."""
    rows = csv.DictReader(io.StringIO(text, newline=""))
    return [Sample(index=r.get("", "") or "", specialty=(r.get("medical_specialty") or "").strip(),
                   sample_name=(r.get("sample_name") or "").strip(), description=(r.get("description") or "").strip(),
                   transcription=r["transcription"], keywords=r.get("keywords") or "", source_url=r.get("source_url") or "")
            for r in rows if (r.get("transcription") or "").strip()]


def load(root: str | Path | None = None) -> list[Sample]:
    """Every row of the shared split (4,066 rows, 1,889 distinct transcriptions)."""
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        return read_csv(archive.read(MEMBER).decode("utf-8"))


def distinct_notes(samples: list[Sample]) -> list[Sample]:
    """One sample per distinct transcription (whitespace- and case-normalised), first listing kept."""
    seen: set[str] = set()
    kept = []
    for sample in samples:
        key = " ".join(sample.transcription.lower().split())
        if key not in seen:
            seen.add(key)
            kept.append(sample)
    return kept
