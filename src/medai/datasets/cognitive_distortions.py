"""Cognitive-distortion annotations of patient statements (Shreevastava & Foltz, CLPsych 2021), shared 80%.

``shreevastava2021_train.zip`` holds ``annotated_data.train80.csv`` with columns ``row`` (original
index), ``Patient Question``, ``Distorted part``, ``Dominant Distortion`` and ``Secondary Distortion
(Optional)``. Labels are the ten distortion types of the paper or ``No Distortion``. The other 20%
are held back; validate with :func:`split` (stratified, identical statements kept together).
Licence unknown: do not redistribute outside the project.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

NAME = "cognitive_distortions"
FILE = "shreevastava2021_train.zip"
MEMBER = "annotated_data.train80.csv"
NONE = "No Distortion"
DISTORTIONS = ("All-or-nothing thinking", "Emotional Reasoning", "Fortune-telling", "Labeling", "Magnification",
               "Mental filter", "Mind Reading", "Overgeneralization", "Personalization", "Should statements")
LABELS = (NONE, *DISTORTIONS)


@dataclass(frozen=True)
class DistortionExample:
    """One patient statement with its dominant (and optional secondary) distortion label."""

    row: int
    text: str
    distorted_part: str | None
    dominant: str
    secondary: str | None

    @property
    def distorted(self) -> bool:
        """Whether the statement carries any distortion."""
        return self.dominant != NONE


def parse(text: str, name: str = MEMBER) -> list[DistortionExample]:
    """Parse the CSV; ``InvalidInput`` names the row and field of every bad row (up to 20)."""
    reader = csv.DictReader(io.StringIO(text))
    need = {"row", "Patient Question", "Distorted part", "Dominant Distortion", "Secondary Distortion (Optional)"}
    missing = need - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {sorted(missing)}", "structure"))
    out, problems = [], []
    for number, row in enumerate(reader, start=2):
        dominant = (row["Dominant Distortion"] or "").strip()
        secondary = (row["Secondary Distortion (Optional)"] or "").strip() or None
        for field, value in (("Dominant Distortion", dominant), ("Secondary Distortion (Optional)", secondary)):
            if value is not None and value not in LABELS:
                problems.append(Problem(f"{name}: row {number}: {field}", f"{value!r} is not a known label", "value"))
        statement = (row["Patient Question"] or "").strip()
        if not statement:
            problems.append(Problem(f"{name}: row {number}: Patient Question", "empty statement", "required"))
        try:
            index = int(row["row"])
        except (TypeError, ValueError):
            problems.append(Problem(f"{name}: row {number}: row", f"{row['row']!r} is not an integer", "value"))
            continue
        out.append(DistortionExample(index, statement, (row["Distorted part"] or "").strip() or None, dominant, secondary))
    if problems:
        raise InvalidInput(problems[:20])
    return out


def load(root: str | Path | None = None) -> list[DistortionExample]:
    """The 2,022 shared statements."""
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        return parse(archive.read(MEMBER).decode("utf-8"))


def split(rows: list[DistortionExample], fraction: float = 0.2, salt: str = "medai-distortion"
          ) -> tuple[list[DistortionExample], list[DistortionExample]]:
    """Deterministic ``(train, validation)`` split stratified on the dominant label; identical statements
    (normalised text) share a side because the order key is a hash of the text."""
    train, validation = [], []
    for label in LABELS:
        group = sorted((r for r in rows if r.dominant == label), key=lambda r: _key(r.text, salt))
        cut = round(fraction * len(group))
        held_texts = {_key(r.text, salt) for r in group[:cut]}
        for r in group:
            (validation if _key(r.text, salt) in held_texts else train).append(r)
    held = {_key(r.text, salt) for r in validation}
    return [r for r in train if _key(r.text, salt) not in held], validation


def _key(text: str, salt: str) -> str:
    return hashlib.sha256((salt + " ".join(text.lower().split())).encode()).hexdigest()
