"""The catalogue of public datasets medai reads, where to find them and how to verify them.

``locate`` looks in the given root, then ``$MEDAI_DATA_DIR``, then the user cache
(``$MEDAI_HOME/data``). Nothing is downloaded here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from medai.config import get_settings


@dataclass(frozen=True)
class Dataset:
    """A public dataset: its folder name, files with sha256, licence and citation."""

    name: str
    folder: str
    files: dict[str, str]
    licence: str
    citation: str


DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("synthea_fhir_r4", "synthea_fhir_r4",
            {"R4_SYNTHEA.zip": "1d3fe691e505ce400b6003f68893b63dec2549695da4af5006582aec0b1549e7"},
            "Apache-2.0 (SMART Health IT sample data; synthetic patients)",
            "Walonoski J et al. Synthea. JAMIA 25(3):230-238 (2018); SMART Health IT generated-sample-data"),
    Dataset("physionet2019", "physionet2019",
            {"training_setA.zip": "33a50ca53ad328a6461e36674f34047fd9f63e01027e2bef8b35a314b0044cd4"},
            "CC BY 4.0",
            "Reyna MA et al. Early Prediction of Sepsis From Clinical Data: the PhysioNet/CinC Challenge 2019. Crit Care Med 48(2):210-217 (2020)"),
]}


class DatasetNotFound(FileNotFoundError):
    """The dataset is in none of the places medai looks."""


def _candidates(root: Path | None) -> list[Path]:
    settings = get_settings()
    places = [root, settings.data_dir, settings.home / "data"]
    return [Path(p) for p in places if p is not None]


def locate(name: str, root: str | Path | None = None) -> Path:
    """The folder holding dataset ``name``; ``DatasetNotFound`` says where it looked."""
    dataset = DATASETS[name]
    looked = []
    for base in _candidates(Path(root) if root else None):
        for folder in (base / dataset.folder, base):
            looked.append(str(folder))
            if all((folder / f).exists() for f in dataset.files):
                return folder
    raise DatasetNotFound(f"dataset {name!r} not found; looked in: {', '.join(looked)}. "
                          f"Pass a path or set MEDAI_DATA_DIR to the folder that holds {dataset.folder}/")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(name: str, root: str | Path | None = None) -> dict[str, bool]:
    """Check every file of a dataset against its recorded sha256: {file: ok}."""
    folder = locate(name, root)
    return {file: sha256_file(folder / file) == expected for file, expected in DATASETS[name].files.items()}
