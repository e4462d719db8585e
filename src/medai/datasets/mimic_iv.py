"""MIMIC-IV hospital tables (the open Clinical Database Demo v2.2) and MIMIC-IV-Note discharge summaries.

The demo (``mimic_iv_demo/mimic-iv-clinical-database-demo-2.2.zip``, ODbL 1.0, 100 patients) has the
``hosp/*.csv.gz`` tables of MIMIC-IV but no notes. Users with PhysioNet credentials can point the
same readers at their own copies:

* the full MIMIC-IV: a folder holding ``hosp/admissions.csv.gz`` (e.g. ``.../mimiciv/2.2``);
* MIMIC-IV-Note v2.2: a folder holding ``note/discharge.csv.gz`` (e.g. ``.../mimic-iv-note/2.2``),
  columns ``note_id, subject_id, hadm_id, note_type, note_seq, charttime, storetime, text``
  (``note_type`` DS = discharge summary, AD = addendum; ``note_id`` = ``subject_id-note_type-note_seq``).

Nothing here downloads anything: credentialed data stays where the user put it.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from medai.config import get_settings
from medai.datasets.registry import DatasetNotFound, locate
from medai.errors import InvalidInput, Problem

NAME = "mimic_iv_demo"
DEMO_ZIP = "mimic-iv-clinical-database-demo-2.2.zip"
DEMO_PREFIX = "mimic-iv-clinical-database-demo-2.2/"
NOTE_FILE = "note/discharge.csv.gz"
NOTE_FOLDERS = ("mimic_iv_note", "mimic-iv-note/2.2", "mimic-iv-note")
NOTE_COLUMNS = ("note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text")
NOTE_TYPES = frozenset({"DS", "AD"})
ADMISSION_COLUMNS = ("subject_id", "hadm_id", "admittime", "dischtime", "deathtime", "admission_type",
                     "admission_location", "discharge_location", "insurance", "race", "hospital_expire_flag")
PATIENT_COLUMNS = ("subject_id", "gender", "anchor_age", "anchor_year", "dod")
DIAGNOSIS_COLUMNS = ("subject_id", "hadm_id", "seq_num", "icd_code", "icd_version")


@dataclass(frozen=True)
class Admission:
    """One hospitalisation (a row of ``hosp/admissions``)."""

    subject_id: int
    hadm_id: int
    admittime: datetime
    dischtime: datetime
    deathtime: datetime | None
    admission_type: str
    admission_location: str
    discharge_location: str
    insurance: str
    race: str
    hospital_expire_flag: bool


@dataclass(frozen=True)
class Patient:
    """One patient (a row of ``hosp/patients``); ages are shifted to ``anchor_year`` as MIMIC publishes them."""

    subject_id: int
    gender: str
    anchor_age: int
    anchor_year: int
    dod: datetime | None


@dataclass(frozen=True)
class DischargeNote:
    """One discharge summary or addendum (a row of MIMIC-IV-Note ``note/discharge``)."""

    note_id: str
    subject_id: int
    hadm_id: int
    note_type: str
    note_seq: int
    charttime: datetime
    storetime: datetime | None
    text: str


class _Row:
    """Typed access to one CSV row; errors name the file, line and column."""

    def __init__(self, source: str, line: int, cells: dict[str, str]):
        self.source, self.line, self.cells = source, line, cells

    def _fail(self, column: str, message: str) -> InvalidInput:
        return InvalidInput(Problem(f"{self.source}: line {self.line}, column {column}", message, code="value"))

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def integer(self, column: str) -> int:
        value = self.text(column)
        try:
            return int(value)
        except ValueError:
            raise self._fail(column, f"{value!r} is not an integer") from None

    def time(self, column: str, required: bool = True) -> datetime | None:
        value = self.text(column)
        if not value and not required:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise self._fail(column, f"{value!r} is not a date-time (YYYY-MM-DD HH:MM:SS)") from None


def _rows(handle: io.TextIOBase, source: str, required: Iterable[str]) -> Iterator[_Row]:
    reader = csv.DictReader(handle)
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput([Problem(f"{source}: column {c}", "is missing", code="required") for c in missing])
    for line, cells in enumerate(reader, start=2):
        yield _Row(source, line, cells)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


class HospSource:
    """Where the ``hosp`` tables are: the demo zip, or a folder holding ``hosp/<table>.csv.gz``."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def rows(self, table: str, required: Iterable[str]) -> Iterator[_Row]:
        """The rows of ``hosp/<table>``, checked for the ``required`` columns."""
        name = f"hosp/{table}.csv.gz"
        if self.path.suffix == ".zip":
            with zipfile.ZipFile(self.path) as archive:
                member = next((n for n in archive.namelist() if n.endswith(name)), None)
                if member is None:
                    raise InvalidInput(Problem(str(self.path), f"holds no {name}", code="not-found"))
                with archive.open(member) as raw:
                    handle = io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", newline="")
                    yield from _rows(handle, name, required)
            return
        path = self.path / name
        if not path.exists():
            path = path.with_suffix("")  # an uncompressed hosp/<table>.csv
        with _open_text(path) as handle:
            yield from _rows(handle, name, required)


def hosp_source(root: str | Path | None = None) -> HospSource:
    """``root`` when it holds ``hosp/admissions.csv(.gz)`` (full MIMIC-IV), else the demo zip (root, then $MEDAI_DATA_DIR)."""
    if root is not None:
        root = Path(root)
        if root.suffix == ".zip" or any((root / "hosp" / f).exists() for f in ("admissions.csv.gz", "admissions.csv")):
            return HospSource(root)
    return HospSource(locate(NAME, root) / DEMO_ZIP)


def load_admissions(root: str | Path | None = None) -> list[Admission]:
    """Every admission, sorted by patient then admission time."""
    admissions = [Admission(row.integer("subject_id"), row.integer("hadm_id"), row.time("admittime"), row.time("dischtime"),
                            row.time("deathtime", required=False), row.text("admission_type"),
                            row.text("admission_location"), row.text("discharge_location"), row.text("insurance"),
                            row.text("race"), row.text("hospital_expire_flag") == "1")
                  for row in hosp_source(root).rows("admissions", ADMISSION_COLUMNS)]
    return sorted(admissions, key=lambda a: (a.subject_id, a.admittime))


def load_patients(root: str | Path | None = None) -> dict[int, Patient]:
    """Patients by ``subject_id``."""
    rows = hosp_source(root).rows("patients", PATIENT_COLUMNS)
    return {p.subject_id: p for p in (Patient(r.integer("subject_id"), r.text("gender"), r.integer("anchor_age"),
                                              r.integer("anchor_year"), r.time("dod", required=False)) for r in rows)}


def load_diagnoses(root: str | Path | None = None) -> dict[int, list[tuple[str, int]]]:
    """(ICD code, ICD version) of each admission's billed diagnoses, in ``seq_num`` order, by ``hadm_id``."""
    found: dict[int, list[tuple[int, str, int]]] = {}
    for row in hosp_source(root).rows("diagnoses_icd", DIAGNOSIS_COLUMNS):
        found.setdefault(row.integer("hadm_id"), []).append((row.integer("seq_num"), row.text("icd_code"),
                                                             row.integer("icd_version")))
    return {hadm: [(code, version) for _, code, version in sorted(items)] for hadm, items in found.items()}


def find_note_file(root: str | Path | None = None) -> Path:
    """MIMIC-IV-Note's ``note/discharge.csv.gz``: ``root`` itself, ``root/note/``, or a MIMIC-IV-Note folder under
    ``root`` or ``$MEDAI_DATA_DIR``. Raises :class:`DatasetNotFound` saying where it looked."""
    bases = [Path(root)] if root is not None else []
    if get_settings().data_dir is not None:
        bases.append(Path(get_settings().data_dir))
    looked = []
    for base in bases:
        if base.is_file():
            return base
        for folder in ("", *NOTE_FOLDERS):
            for name in (NOTE_FILE, NOTE_FILE.removesuffix(".gz")):
                candidate = base / folder / name
                looked.append(str(candidate))
                if candidate.exists():
                    return candidate
    raise DatasetNotFound("MIMIC-IV-Note discharge summaries not found (they need PhysioNet credentials: "
                          "https://physionet.org/content/mimic-iv-note/); looked in: " + (", ".join(looked) or "nowhere") +
                          ". Pass the folder that holds note/discharge.csv.gz.")


def iter_discharge_notes(root: str | Path | None = None, hadm_ids: Iterable[int] | None = None) -> Iterator[DischargeNote]:
    """Stream the discharge notes (only those of ``hadm_ids`` when given), checking every field."""
    path = find_note_file(root)
    wanted = None if hadm_ids is None else set(hadm_ids)
    with _open_text(path) as handle:
        for row in _rows(handle, path.name, NOTE_COLUMNS):
            hadm = row.integer("hadm_id")
            if wanted is not None and hadm not in wanted:
                continue
            note_type = row.text("note_type")
            if note_type not in NOTE_TYPES:
                raise row._fail("note_type", f"{note_type!r} is not DS (discharge summary) or AD (addendum)")
            yield DischargeNote(row.text("note_id"), row.integer("subject_id"), hadm, note_type, row.integer("note_seq"),
                                row.time("charttime"), row.time("storetime", required=False), row.cells.get("text") or "")


def notes_by_admission(notes: Iterable[DischargeNote]) -> dict[int, str]:
    """One text per admission: its discharge summaries then addenda, each in ``note_seq`` order."""
    grouped: dict[int, list[DischargeNote]] = {}
    for note in notes:
        grouped.setdefault(note.hadm_id, []).append(note)
    return {hadm: "\n\n".join(n.text for n in sorted(items, key=lambda n: (n.note_type != "DS", n.note_seq)))
            for hadm, items in grouped.items()}
