"""IWPC warfarin dosing data (PharmGKB), in the layout of Stanford CS234's ``warfarin.csv``.

One row per patient, keyed by ``PharmGKB Subject ID``: demographics, indication, comorbidities,
co-medication, genotypes (CYP2C9, VKORC1 SNPs) and the stable therapeutic weekly dose.
The file is UTF-8 with a byte-order mark, CRLF line ends and empty trailing columns; values
``NA`` and empty cells mean "not recorded" and are read as ``None``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

NAME = "warfarin_iwpc"
FILE = "warfarin.csv"
ID = "PharmGKB Subject ID"
DOSE = "Therapeutic Dose of Warfarin"
MISSING = frozenset({"", "NA", "N/A", "na", "NaN", "nan"})

Row = dict[str, str | None]


def read_rows(source: str | Path | bytes) -> tuple[list[str], list[Row]]:
    """Parse a file (path, or its bytes) in the IWPC layout: the header and one dict per patient.

    Empty header columns are dropped, fully empty lines skipped and missing markers become ``None``.
    Raises :class:`InvalidInput` when the subject-id column is absent or an id repeats.
    """
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(Problem("file", f"not UTF-8 text ({error.reason} at byte {error.start}); save the CSV as UTF-8")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise InvalidInput(Problem("header", "the file is empty")) from None
    except csv.Error as error:
        raise InvalidInput(Problem("header", f"malformed CSV: {error}")) from None
    if ID not in header:
        raise InvalidInput(Problem("header", f"column {ID!r} is missing; expected the IWPC warfarin.csv layout"))
    keep = [i for i, name in enumerate(header) if name]
    rows: list[Row] = []
    seen: set[str] = set()
    for line_no, cells in _rows(reader):
        if not any(cell.strip() for cell in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        row = {header[i]: _value(cells[i]) for i in keep}
        subject = row[ID]
        if subject is None:
            raise InvalidInput(Problem(f"line {line_no}: {ID}", "the subject id is empty"))
        if subject in seen:
            raise InvalidInput(Problem(f"line {line_no}: {ID}", f"subject {subject!r} appears twice"))
        seen.add(subject)
        rows.append(row)
    return [header[i] for i in keep], rows


def _rows(reader):
    """(line number, cells) of each CSV row; a malformed row is ``InvalidInput`` naming its line."""
    line_no = 1
    while True:
        line_no += 1
        try:
            yield line_no, next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InvalidInput(Problem(f"line {reader.line_num}", f"malformed CSV: {error}")) from None


def _value(cell: str) -> str | None:
    cell = cell.strip()
    return None if cell in MISSING else cell


def load(root: str | Path | None = None) -> list[Row]:
    """Every patient of the shared IWPC cohort (``$MEDAI_DATA_DIR/warfarin_iwpc/warfarin.csv``)."""
    return read_rows(locate(NAME, root) / FILE)[1]


def stable_dose(row: Row) -> float | None:
    """The stable therapeutic weekly dose in mg, or ``None`` when not recorded (or not positive)."""
    value = row.get(DOSE)
    if value is None:
        return None
    dose = float(value)
    return dose if dose > 0 else None


def in_validation(subject_id: str, fraction: float = 0.2, salt: str = "medai-warfarin-v1") -> bool:
    """Whether a patient belongs to medai's validation split (a stable hash of the id, so order-independent)."""
    digest = hashlib.sha256(f"{salt}:{subject_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split(rows: Sequence[Row], fraction: float = 0.2) -> tuple[list[Row], list[Row]]:
    """Patient-level train / validation split (each patient has one row, so no patient is on both sides)."""
    train, validation = [], []
    for row in rows:
        (validation if in_validation(str(row[ID]), fraction) else train).append(row)
    return train, validation


def with_dose(rows: Iterable[Row]) -> list[Row]:
    """Only the patients whose stable therapeutic dose is recorded."""
    return [row for row in rows if stable_dose(row) is not None]
