"""Diabetes 130-US hospitals for years 1999-2008 (UCI), in its original CSV layout.

One row per inpatient encounter of a diabetic patient: ``encounter_id``, ``patient_nbr``,
demographics, admission and discharge codes (meanings in ``IDs_mapping.csv``), length of stay,
counts of labs, procedures, medications and prior visits, three ICD-9 diagnoses, HbA1c and glucose
results, 23 diabetes medications and ``readmitted`` (``NO``, ``>30`` or ``<30`` days). Missing
values are coded ``?``; this reader turns them into empty strings.

The shared copy is the UCI zip (``diabetes130/dataset_diabetes.zip``); :func:`read_csv` reads any
CSV in the same layout (one encounter per patient or whole histories), checking every column the
readmission model uses and naming the column and line of each bad value.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

NAME = "diabetes130"
ZIP = "dataset_diabetes.zip"
MEMBER = "dataset_diabetes/diabetic_data.csv"
MISSING = "?"
MAX_PROBLEMS = 20

MEDICATIONS = ("metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide", "glipizide",
               "glyburide", "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose", "miglitol", "troglitazone",
               "tolazamide", "examide", "citoglipton", "insulin", "glyburide-metformin", "glipizide-metformin",
               "glimepiride-pioglitazone", "metformin-rosiglitazone", "metformin-pioglitazone")
ID_COLUMNS = ("encounter_id", "patient_nbr")
INTEGER_COLUMNS = ("admission_type_id", "discharge_disposition_id", "admission_source_id", "time_in_hospital",
                   "num_lab_procedures", "num_procedures", "num_medications", "number_outpatient", "number_emergency",
                   "number_inpatient", "number_diagnoses")
AGE_BANDS = tuple(f"[{10 * k}-{10 * k + 10})" for k in range(10))
CODED_COLUMNS: dict[str, frozenset[str]] = {
    "age": frozenset(AGE_BANDS),
    "gender": frozenset({"Female", "Male", "Unknown/Invalid"}),
    "max_glu_serum": frozenset({"None", "Norm", ">200", ">300"}),
    "A1Cresult": frozenset({"None", "Norm", ">7", ">8"}),
    "change": frozenset({"No", "Ch"}),
    "diabetesMed": frozenset({"No", "Yes"}),
    **{name: frozenset({"No", "Steady", "Up", "Down"}) for name in MEDICATIONS},
}
FREE_TEXT_COLUMNS = ("race", "payer_code", "medical_specialty")
DIAGNOSIS_COLUMNS = ("diag_1", "diag_2", "diag_3")
LABEL = "readmitted"
LABEL_VALUES = frozenset({"NO", ">30", "<30"})
REQUIRED = (ID_COLUMNS + INTEGER_COLUMNS + tuple(CODED_COLUMNS) + FREE_TEXT_COLUMNS + DIAGNOSIS_COLUMNS)
"""Columns a file must have (``weight`` is not used: 97% missing; ``readmitted`` is optional)."""
_ICD9 = re.compile(r"^(?:\d{1,3}(?:\.\d{1,2})?|V\d{2}(?:\.\d{1,2})?|E\d{3}(?:\.\d)?)$")


@dataclass(frozen=True)
class Diabetes130Table:
    """Encounters as columns: ids and counts as int64 arrays, everything else as str arrays ('' = missing).

    ``lines`` holds each row's line number in its file (header = line 1), for error messages.
    """

    columns: dict[str, np.ndarray]
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def has_labels(self) -> bool:
        """Whether the ``readmitted`` column is present (training data; optional for scoring)."""
        return LABEL in self.columns

    def take(self, index: np.ndarray | Iterable[int]) -> Diabetes130Table:
        """The rows at ``index`` (integer positions or a boolean mask), in that order."""
        index = np.asarray(index)
        return Diabetes130Table({k: v[index] for k, v in self.columns.items()}, self.lines[index])

    def readmitted_within_30_days(self) -> np.ndarray:
        """1 where ``readmitted`` is ``<30``, else 0 (requires the label column)."""
        if not self.has_labels:
            raise InvalidInput(Problem(LABEL, "the column is missing; it is needed to train or evaluate"))
        return (self.columns[LABEL] == "<30").astype(np.int8)


def _problem(problems: list[Problem], column: str, line: int, message: str) -> None:
    if len(problems) < MAX_PROBLEMS:
        problems.append(Problem(f"line {line}, column {column}", message, code="value"))


def _report(problems: list[Problem], name: str, uniq: np.ndarray, inverse: np.ndarray, bad: np.ndarray,
            lines: np.ndarray, message: str) -> None:
    """One problem per row whose value (``uniq[inverse[row]]``) is flagged in ``bad``."""
    for row in np.flatnonzero(bad[inverse])[:MAX_PROBLEMS]:
        _problem(problems, name, int(lines[row]), f"{str(uniq[inverse[row]])!r} {message}")


def _factorise(raw: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, index of each row's value): one dict pass, no big string array."""
    index: dict[str, int] = {}
    inverse = np.fromiter((index.setdefault(value, len(index)) for value in raw), dtype=np.intp, count=len(raw))
    return np.array(list(index), dtype=str), inverse


def _integers(name: str, raw: list[str], lines: np.ndarray, problems: list[Problem]) -> np.ndarray:
    uniq, inverse = _factorise(raw)
    # ASCII digits only ("²".isdigit() is True but int() refuses it), and small enough for int64
    ok = np.array([value.isascii() and value.isdigit() and len(value) <= 18 for value in uniq], dtype=bool)
    _report(problems, name, uniq, inverse, ~ok, lines, "is not a whole number >= 0 (at most 18 digits)")
    return np.array([int(v) if good else 0 for v, good in zip(uniq, ok)], dtype=np.int64)[inverse]


def _strings(name: str, raw: list[str], lines: np.ndarray, problems: list[Problem], valid, message: str,
             missing_ok: bool = True) -> np.ndarray:
    """The column with ``?`` turned into ''; values failing ``valid`` are reported with ``message``."""
    uniq, inverse = _factorise(raw)
    bad = np.array([not (valid(v) or (missing_ok and v == MISSING)) for v in uniq], dtype=bool)
    _report(problems, name, uniq, inverse, bad, lines, message)
    return np.where(uniq == MISSING, "", uniq)[inverse]


def _header_problems(header: list[str]) -> list[Problem]:
    missing = [name for name in REQUIRED if name not in header]
    return [Problem(f"column {name}", "is missing; expected the Diabetes 130 layout (diabetic_data.csv)", code="required")
            for name in missing]


def parse_csv(text: str) -> Diabetes130Table:
    """Parse CSV text in the Diabetes 130 layout; raise :class:`InvalidInput` naming each bad column and line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise InvalidInput(Problem("header", "the file is empty")) from None
    if problems := _header_problems(header):
        raise InvalidInput(problems)
    width = len(header)
    rows, line_numbers = [], []
    for line, cells in enumerate(reader, start=2):
        if len(cells) <= 1 and not "".join(cells).strip():
            continue
        if len(cells) != width:
            raise InvalidInput(Problem(f"line {line}", f"has {len(cells)} fields; the header has {width}"))
        rows.append(cells)
        line_numbers.append(line)
    if not rows:
        raise InvalidInput(Problem("rows", "the file has a header but no encounters"))
    raw = dict(zip(header, (list(col) for col in zip(*rows))))
    return _build(raw, np.array(line_numbers))


def _build(raw: dict[str, list[str]], lines: np.ndarray) -> Diabetes130Table:
    problems: list[Problem] = []
    columns: dict[str, np.ndarray] = {}
    for name in ID_COLUMNS + INTEGER_COLUMNS:
        columns[name] = _integers(name, raw[name], lines, problems)
    for name, allowed in CODED_COLUMNS.items():
        columns[name] = _strings(name, raw[name], lines, problems, allowed.__contains__,
                                 f"is not one of {', '.join(sorted(allowed))}")
    for name in FREE_TEXT_COLUMNS:
        columns[name] = _strings(name, raw[name], lines, problems, lambda v: True, "")
    for name in DIAGNOSIS_COLUMNS:
        columns[name] = _strings(name, raw[name], lines, problems, lambda v: bool(_ICD9.match(v)),
                                 "is not an ICD-9-CM code (e.g. 428, 250.01, V45)")
    if LABEL in raw:
        columns[LABEL] = _strings(LABEL, raw[LABEL], lines, problems, LABEL_VALUES.__contains__,
                                  f"is not one of {', '.join(sorted(LABEL_VALUES))}", missing_ok=False)
    ids, first = np.unique(columns["encounter_id"], return_index=True)
    if len(ids) < len(lines) and not problems:
        seen = np.zeros(len(lines), dtype=bool)
        seen[first] = True
        for i in np.flatnonzero(~seen)[:MAX_PROBLEMS]:
            problems.append(Problem(f"line {lines[i]}, column encounter_id",
                                    f"encounter {columns['encounter_id'][i]} appears more than once"))
    if problems:
        raise InvalidInput(problems)
    return Diabetes130Table(columns, lines)


def read_csv(path: str | Path) -> Diabetes130Table:
    """Read a CSV file in the Diabetes 130 layout (or the UCI zip that holds ``diabetic_data.csv``)."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            member = next((n for n in archive.namelist() if n.endswith("diabetic_data.csv")), None)
            if member is None:
                raise InvalidInput(Problem(str(path), "the zip holds no diabetic_data.csv"))
            return parse_csv(archive.read(member).decode("utf-8"))
    return parse_csv(path.read_text(encoding="utf-8"))


def load(root: str | Path | None = None) -> Diabetes130Table:
    """Every encounter of the shared copy (``$MEDAI_DATA_DIR/diabetes130/dataset_diabetes.zip``)."""
    return read_csv(locate(NAME, root) / ZIP)
