"""Kaggle "Disease Symptom Prediction" table (Patil; 41 diseases x 132 binary symptoms), author's copy.

``symptom_disease_train.zip`` holds ``Data/Training.csv`` (4,920 rows, one 0/1 column per symptom and a
``prognosis`` column; only 304 rows are distinct) and ``MasterData/`` with symptom severities, disease
descriptions and precautions. The column quirks of the original (``spotting_ urination``, ``foul_smell_of urine``,
a duplicated ``fluid_overload``) are normalised here to single-underscore names. It is a small, redundant table:
useful for tests and sanity checks, not as a knowledge base. ``Testing.csv`` is held back.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

FILE = "symptom_disease_train.zip"
TRAINING = "Data/Training.csv"
SEVERITY = "MasterData/Symptom_severity.csv"
DESCRIPTIONS = "MasterData/symptom_Description.csv"
PRECAUTIONS = "MasterData/symptom_precaution.csv"


@dataclass(frozen=True)
class Case:
    """One row: the disease and the symptoms marked present."""

    disease: str
    symptoms: frozenset[str]


@dataclass(frozen=True)
class SymptomDiseaseTable:
    """The training rows plus the master data keyed by disease or symptom."""

    cases: list[Case]
    symptoms: list[str]
    severity: dict[str, int]
    descriptions: dict[str, str]
    precautions: dict[str, list[str]]

    @property
    def diseases(self) -> list[str]:
        """The distinct diseases, sorted."""
        return sorted({c.disease for c in self.cases})


def symptom_name(raw: str) -> str:
    """Normalise a column name: trimmed, lower case, runs of spaces/underscores to one underscore."""
    return re.sub(r"[\s_]+", "_", raw.strip().lower()).strip("_")


def parse_training(text: str, name: str = TRAINING) -> tuple[list[str], list[Case]]:
    """The symptom columns and the cases of ``Training.csv``; ``InvalidInput`` names a bad row."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "prognosis" not in rows[0]:
        raise InvalidInput(Problem(f"{name}: header", "expected symptom columns and 'prognosis'", "structure"))
    header = rows[0]
    target = header.index("prognosis")
    columns = [(i, symptom_name(h)) for i, h in enumerate(header) if i != target and h.strip()]
    symptoms = list(dict.fromkeys(n for _, n in columns))
    cases = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise InvalidInput(Problem(f"{name}: row {number}", f"expected {len(header)} columns, got {len(row)}", "structure"))
        bad = [row[i] for i, _ in columns if row[i].strip() not in ("0", "1")]
        if bad:
            raise InvalidInput(Problem(f"{name}: row {number}", f"symptom values must be 0 or 1, got {bad[0]!r}", "value"))
        present = frozenset(n for i, n in columns if row[i].strip() == "1")
        cases.append(Case(row[target].strip(), present))
    return symptoms, cases


def _pairs(text: str) -> list[list[str]]:
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]


def load(root: str | Path | None = None) -> SymptomDiseaseTable:
    """The training table and master data from ``symptom_disease_train.zip``."""
    with zipfile.ZipFile(locate("symptom_disease", root) / FILE) as archive:
        read = lambda member: archive.read(member).decode("utf-8-sig")  # noqa: E731
        symptoms, cases = parse_training(read(TRAINING))
        severity = {symptom_name(r[0]): int(r[1]) for r in _pairs(read(SEVERITY)) if len(r) > 1 and r[1].isdigit()}
        descriptions = {r[0]: r[1] for r in _pairs(read(DESCRIPTIONS)) if len(r) > 1}
        precautions = {r[0]: [c for c in r[1:] if c] for r in _pairs(read(PRECAUTIONS))}
    return SymptomDiseaseTable(cases, symptoms, severity, descriptions, precautions)
