"""PhysioNet/CinC Challenge 2019 (sepsis) PSV files, from a folder or a zip.

Each patient file has a header of 41 pipe-separated columns and one row per ICU hour.
Bad files raise ``InvalidInput`` naming the file, row and field; ``iter_patients`` can
skip and report them so one bad patient never stops a batch.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

COLUMNS = ("HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|BUN|Alkalinephos|Calcium|"
           "Chloride|Creatinine|Bilirubin_direct|Glucose|Lactate|Magnesium|Phosphate|Potassium|Bilirubin_total|"
           "TroponinI|Hct|Hgb|PTT|WBC|Fibrinogen|Platelets|Age|Gender|Unit1|Unit2|HospAdmTime|ICULOS").split("|")
LABEL = "SepsisLabel"


@dataclass
class PatientStay:
    """One ICU stay: hourly values (rows x columns), and labels when the file has them."""

    patient_id: str
    values: np.ndarray
    columns: list[str]
    labels: np.ndarray | None

    def column(self, name: str) -> np.ndarray:
        """One variable over the stay."""
        return self.values[:, self.columns.index(name)]

    def subgroups(self) -> dict[str, str]:
        """The stay's age band, sex and ICU unit, as reported in subgroup tables."""
        age = self.column("Age")[0]
        unit = "MICU" if self.column("Unit1")[0] == 1 else "SICU" if self.column("Unit2")[0] == 1 else "unrecorded"
        return {"age band": "<45" if age < 45 else "45-64" if age < 65 else "65-79" if age < 80 else "80+",
                "sex": "male" if self.column("Gender")[0] == 1 else "female", "unit": unit}


def parse_psv(text: str, name: str) -> PatientStay:
    """Parse one PSV file; ``InvalidInput`` names the file, row and field of any problem."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InvalidInput(Problem(name, "empty file", "structure"))
    header = lines[0].strip().split("|")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {', '.join(missing)}", "structure"))
    rows = np.empty((len(lines) - 1, len(header)))
    for row_index, line in enumerate(lines[1:], start=2):
        fields = line.strip().split("|")
        if len(fields) != len(header):
            raise InvalidInput(Problem(f"{name}: row {row_index}", f"{len(fields)} fields, header has {len(header)}", "structure"))
        for col, field in enumerate(fields):
            try:
                rows[row_index - 2, col] = float(field)
            except ValueError:
                raise InvalidInput(Problem(f"{name}: row {row_index}, field {header[col]}", f"non-numeric value {field!r}", "value")) from None
    iculos = rows[:, header.index("ICULOS")]
    if len(iculos) > 1 and np.any(np.diff(iculos) <= 0):
        bad = int(np.argmax(np.diff(iculos) <= 0)) + 3
        raise InvalidInput(Problem(f"{name}: row {bad}, field ICULOS", "hours are unsorted or duplicated", "value"))
    index = [header.index(c) for c in COLUMNS]
    labels = None
    if LABEL in header:
        raw = rows[:, header.index(LABEL)]
        if not np.all(np.isin(raw, (0, 1))):
            bad = int(np.argmax(~np.isin(raw, (0, 1)))) + 2
            raise InvalidInput(Problem(f"{name}: row {bad}, field {LABEL}", "label must be 0 or 1", "value"))
        labels = raw.astype(np.int8)
    return PatientStay(Path(name).stem, rows[:, index], list(COLUMNS), labels)


def psv_sources(path: Path) -> list[tuple[str, Path | zipfile.ZipFile]]:
    """Every PSV file in a folder or zip, sorted by name."""
    if path.is_file() and path.suffix == ".zip":
        archive = zipfile.ZipFile(path)
        return [(n, archive) for n in sorted(archive.namelist()) if n.endswith(".psv")]
    return [(str(p), p) for p in sorted(Path(path).rglob("*.psv"))]


def read_source(name: str, source: Path | zipfile.ZipFile) -> str:
    """The text of one PSV file."""
    return source.read(name).decode("utf-8") if isinstance(source, zipfile.ZipFile) else Path(source).read_text()


def iter_patients(path: Path, errors: list[Problem] | None = None, limit: int | None = None) -> Iterator[PatientStay]:
    """Parse every patient; bad files go to ``errors`` (when given) instead of stopping the batch."""
    for name, source in psv_sources(path)[:limit]:
        try:
            yield parse_psv(read_source(name, source), name)
        except InvalidInput as error:
            if errors is None:
                raise
            errors.extend(error.problems)


def load(root: str | Path | None = None, limit: int | None = None) -> Iterator[PatientStay]:
    """The challenge's training set A (hospital A), patient by patient."""
    folder = locate("physionet2019", root)
    return iter_patients(folder / "training_setA.zip", limit=limit)
