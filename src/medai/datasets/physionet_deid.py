"""PhysioNet "deid" gold-standard nursing notes with PHI annotations (Neamatullah et al. 2008).

The zip holds ``id_shared.text`` (notes as ``START_OF_RECORD=patient||||note||||`` ...
``||||END_OF_RECORD``) and ``id-phi_shared.phrase`` (one PHI per line: ``patient note start end
category text``, offsets 0-based and end-exclusive in the note body). The phrase file is the
complete gold standard (the ``.deid`` file lacks headers for a few notes), so it is the one read.

Every annotated phrase is checked against the note text; a mismatch, a phrase for an unknown
note or a malformed line raises ``InvalidInput`` naming the file and line.

>>> corpus = load()                                   # doctest: +SKIP
>>> train, dev = split_patients(corpus.notes)         # doctest: +SKIP
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

NAME = "physionet_deid"
ZIP_FILE = "deid_goldstd_shared.zip"
TEXT_FILE = "id_shared.text"
PHRASE_FILE = "id-phi_shared.phrase"
CATEGORIES = ("Age", "Date", "DateYear", "HCPName", "Location", "Other", "PTName", "PTNameInitial", "Phone",
              "RelativeProxyName")
_RECORD = re.compile(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n?(.*?)\|\|\|\|END_OF_RECORD", re.S)


@dataclass(frozen=True)
class GoldSpan:
    """One annotated PHI phrase: character offsets in the note body, the corpus category, the text."""

    start: int
    end: int
    category: str
    text: str


@dataclass
class DeidNote:
    """One nursing note and its gold PHI spans."""

    patient: int
    note: int
    text: str
    spans: list[GoldSpan] = field(default_factory=list)

    @property
    def id(self) -> str:
        """``"<patient>-<note>"``, unique in the corpus."""
        return f"{self.patient}-{self.note}"


@dataclass
class DeidCorpus:
    """The notes in file order, and where they came from."""

    notes: list[DeidNote]
    source: str

    @property
    def patients(self) -> list[int]:
        """Patient numbers in first-seen order."""
        return list(dict.fromkeys(n.patient for n in self.notes))


def parse_notes(text: str, name: str = TEXT_FILE) -> list[DeidNote]:
    """The notes of a ``.text`` file; ``InvalidInput`` when it holds no record."""
    notes = [DeidNote(int(p), int(n), body) for p, n, body in _RECORD.findall(text)]
    if not notes:
        raise InvalidInput(Problem(name, "no START_OF_RECORD=patient||||note|||| ... ||||END_OF_RECORD record found",
                                   "structure"))
    return notes


def attach_phrases(notes: Sequence[DeidNote], phrases: str, name: str = PHRASE_FILE) -> None:
    """Add the gold spans of a ``-phi.phrase`` file to ``notes``, checking each against the note text."""
    by_id = {(n.patient, n.note): n for n in notes}
    problems = []
    for number, line in enumerate(phrases.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(" ", 5)
        where = f"{name}: line {number}"
        if len(parts) != 6 or not all(p.isdigit() for p in parts[:4]):
            problems.append(Problem(where, "expected 'patient note start end category text'", "structure"))
            continue
        patient, note_no, start, end = (int(p) for p in parts[:4])
        note = by_id.get((patient, note_no))
        if note is None:
            problems.append(Problem(where, f"patient {patient} note {note_no} is not in the text file", "not-found"))
        elif note.text[start:end] != parts[5]:
            problems.append(Problem(where, f"text {parts[5]!r} does not match the note at {start}-{end} "
                                           f"({note.text[start:end]!r})", "value"))
        else:
            note.spans.append(GoldSpan(start, end, parts[4], parts[5]))
    if problems:
        raise InvalidInput(problems)
    for note in notes:
        note.spans.sort(key=lambda s: (s.start, s.end))


def read_zip(path: str | Path) -> DeidCorpus:
    """Read the notes and gold spans from the shared zip (members may sit in a sub-folder)."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        members = {Path(m).name: m for m in archive.namelist()}
        missing = [f for f in (TEXT_FILE, PHRASE_FILE) if f not in members]
        if missing:
            raise InvalidInput(Problem(str(path), f"missing {', '.join(missing)} in the zip", "not-found"))
        text = archive.read(members[TEXT_FILE]).decode("utf-8")
        phrases = archive.read(members[PHRASE_FILE]).decode("utf-8")
    notes = parse_notes(text)
    attach_phrases(notes, phrases)
    return DeidCorpus(notes, str(path))


def load(root: str | Path | None = None) -> DeidCorpus:
    """The shared half of the corpus, from ``root`` / ``$MEDAI_DATA_DIR`` / the user cache."""
    return read_zip(locate(NAME, root) / ZIP_FILE)


def split_patients(notes: Sequence[DeidNote], dev_fraction: float = 0.3, seed: int = 731
                   ) -> tuple[list[DeidNote], list[DeidNote]]:
    """A patient-level (train, dev) split: every note of a patient lands on the same side."""
    if not 0 < dev_fraction < 1:
        raise ValueError(f"dev_fraction must lie strictly between 0 and 1, got {dev_fraction}")
    patients = sorted({n.patient for n in notes})
    order = np.random.default_rng(seed).permutation(len(patients))
    dev = {patients[i] for i in order[:max(1, round(dev_fraction * len(patients)))]}
    return [n for n in notes if n.patient not in dev], [n for n in notes if n.patient in dev]


__all__ = ["CATEGORIES", "DeidCorpus", "DeidNote", "GoldSpan", "attach_phrases", "load", "parse_notes", "read_zip",
           "split_patients"]
