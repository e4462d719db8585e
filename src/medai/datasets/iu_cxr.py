"""Indiana University chest X-ray reports (Open-i; Demner-Fushman et al. 2016), the shared 80% of report uids.

``iu_cxr_reports_shared.zip`` holds ``indiana_reports_shared.csv`` (uid, MeSH, Problems, image,
indication, comparison, findings, impression) and ``indiana_projections_shared.csv`` (image
filenames per uid; the images are not included). ``XXXX`` marks de-identification redactions.
Licence: usually cited as CC BY-NC-ND 4.0, non-commercial research data.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

NAME = "iu_cxr"
FILE = "iu_cxr_reports_shared.zip"
REPORTS = "indiana_reports_shared.csv"
COLUMNS = ("uid", "MeSH", "Problems", "image", "indication", "comparison", "findings", "impression")


@dataclass(frozen=True)
class Report:
    """One chest radiograph report: its uid, MeSH-coded findings and the four free-text fields."""

    uid: str
    mesh: str
    problems: str
    image: str
    indication: str
    comparison: str
    findings: str
    impression: str

    @property
    def normal(self) -> bool:
        """Whether the report's MeSH label is ``normal``."""
        return self.mesh.strip().lower() == "normal"

    def field(self, name: str) -> str:
        """A free-text field by name: ``indication``, ``comparison``, ``findings`` or ``impression``."""
        if name not in ("indication", "comparison", "findings", "impression"):
            raise KeyError(f"unknown report field {name!r}")
        return getattr(self, name)


def parse(text: str, name: str = REPORTS) -> list[Report]:
    """Parse the reports CSV; ``InvalidInput`` names missing columns."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(Problem(f"{name}: header", f"missing columns {missing}", "structure"))
    return [Report(r["uid"], r["MeSH"] or "", r["Problems"] or "", r["image"] or "", r["indication"] or "",
                   r["comparison"] or "", r["findings"] or "", r["impression"] or "") for r in reader]


def load(root: str | Path | None = None) -> list[Report]:
    """The 3,079 shared reports."""
    with zipfile.ZipFile(locate(NAME, root) / FILE) as archive:
        member = next(i for i in archive.namelist() if PurePosixPath(i).name == REPORTS)
        return parse(archive.read(member).decode("utf-8"))
