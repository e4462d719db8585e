"""NegEx / ConText annotated test kit (Chapman et al. 2001; Harkema et al. 2009), development 40%.

``negex_dev.zip`` holds ``rsAnnotations-1-120-random.dev40.txt`` (tab-separated: line number,
condition, sentence, negation status, temporality, experiencer; the condition is written in
capitals inside its sentence) and the kit's trigger lists (``negex_triggers.txt`` and the
genConText history, hypothetical and experiencer files). Labels are read lower-cased;
temporality ``not particular`` is the kit's word for hypothetical. The other 60% of the kit is
held back for independent evaluation: tune only on this part, with your own inner split
(:func:`split`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

FILE = "negex_dev.zip"
ANNOTATIONS = "rsAnnotations-1-120-random.dev40.txt"
COLUMNS = 6


@dataclass(frozen=True)
class NegexSentence:
    """One annotated (condition, sentence) pair of the kit."""

    line: int
    condition: str
    sentence: str
    negation: str          # negated | affirmed | possible
    temporality: str       # recent | historical | not particular (hypothetical)
    experiencer: str       # patient | family member | other

    @property
    def temporality_class(self) -> str:
        """``recent``, ``historical`` or ``hypothetical`` (the kit's ``not particular``)."""
        return {"historical": "historical", "not particular": "hypothetical", "hypothetical": "hypothetical"}.get(
            self.temporality, "recent")

    @property
    def target_span(self) -> tuple[int, int] | None:
        """Offsets of the condition in the sentence: the occurrence the kit wrote in capitals, else the first."""
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in self.condition.split()) + r"(?!\w)"
        found = [m.span() for m in re.finditer(pattern, self.sentence, re.IGNORECASE)]
        if not found:
            return None
        upper = [s for s in found if self.sentence[s[0]:s[1]].isupper()]
        return (upper or found)[0]


def parse(text: str, name: str = ANNOTATIONS) -> list[NegexSentence]:
    """Parse the kit's tab-separated annotation file; ``InvalidInput`` names a malformed row."""
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or not rows[0] or rows[0][0].strip().lower() != "line number":
        raise InvalidInput(Problem(f"{name}: header", "expected the kit's header starting with 'line number'", "structure"))
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != COLUMNS:
            raise InvalidInput(Problem(f"{name}: row {number}", f"expected {COLUMNS} tab-separated columns, got {len(row)}",
                                       "structure"))
        try:
            line = int(row[0])
        except ValueError:
            raise InvalidInput(Problem(f"{name}: row {number}", f"line number {row[0]!r} is not an integer", "value")) from None
        out.append(NegexSentence(line, row[1].strip(), row[2], *(cell.strip().lower() for cell in row[3:6])))
    return out


def _member(archive: zipfile.ZipFile, basename: str, folder: str | None = None) -> str:
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if path.name == basename and (folder is None or folder in path.parts):
            return archive.read(info).decode("latin-1")
    raise InvalidInput(Problem(f"{FILE}: {basename}", "member not found in the zip", "not-found"))


def load(root: str | Path | None = None) -> list[NegexSentence]:
    """The 1,019 development annotations."""
    with zipfile.ZipFile(locate("negex", root) / FILE) as archive:
        return parse(_member(archive, ANNOTATIONS))


def trigger_list(name: str = "negex_triggers.txt", root: str | Path | None = None) -> list[tuple[str, str]]:
    """A kit trigger file as ``(phrase, tag)`` pairs, e.g. ``("no evidence of", "PREN")``; genConText's copy
    (``negex_triggers.txt``, ``history_triggers.txt``, ``hypothetical_triggers.txt``, ``experiencer_triggers.txt``)."""
    with zipfile.ZipFile(locate("negex", root) / FILE) as archive:
        text = _member(archive, name, "genConText")
    pairs = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        if len(cells) >= 2:
            pairs.append((" ".join(cells[0].split()), cells[-1].strip("[]")))
    return pairs


def split(rows: list[NegexSentence], fraction: float = 0.3, salt: str = "medai") -> tuple[list[NegexSentence],
                                                                                         list[NegexSentence]]:
    """Deterministic inner split ``(fit, held)`` by a hash of the normalised sentence (no sentence straddles)."""
    fit, held = [], []
    for row in rows:
        key = (salt + " ".join(row.sentence.lower().split())).encode()
        bucket = int.from_bytes(hashlib.sha256(key).digest()[:4], "big") / 2**32
        (held if bucket < fraction else fit).append(row)
    return fit, held


def score(rows: list[NegexSentence], predict: Callable[[NegexSentence], Any]) -> dict:
    """Negation accuracy/sensitivity/specificity, temporality and experiencer accuracy of ``predict``.

    ``predict(row)`` returns an object with boolean ``negated``, ``historical``, ``hypothetical`` and
    ``family`` attributes (e.g. a :class:`medai.notes.context.Assertion`), or ``None`` (all False).
    Temporality is predicted ``hypothetical`` over ``historical`` over ``recent``.
    """
    tp = tn = fp = fn = temporal = experiencer = 0
    for row in rows:
        result = predict(row)
        flags = {name: bool(result is not None and getattr(result, name)) for name in ("negated", "historical",
                                                                                         "hypothetical", "family")}
        negated, gold = flags["negated"], row.negation == "negated"
        tp, fn = tp + (gold and negated), fn + (gold and not negated)
        fp, tn = fp + (negated and not gold), tn + (not negated and not gold)
        predicted = "hypothetical" if flags["hypothetical"] else "historical" if flags["historical"] else "recent"
        temporal += predicted == row.temporality_class
        experiencer += flags["family"] == (row.experiencer != "patient")
    n = len(rows) or 1
    return {"n": len(rows), "negation_accuracy": (tp + tn) / n, "negation_sensitivity": tp / ((tp + fn) or 1),
            "negation_specificity": tn / ((tn + fp) or 1), "negation_confusion": {"tp": tp, "fn": fn, "fp": fp, "tn": tn},
            "temporality_accuracy": temporal / n, "experiencer_accuracy": experiencer / n}
