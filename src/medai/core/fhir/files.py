"""FHIR Bundle files on disk: one JSON file, a folder of them, or a zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path


def bundle_files(path: Path) -> list[tuple[str, Path | zipfile.ZipFile]]:
    """Every bundle in a file, folder or zip as (name, source).

    Bundles of shared reference resources come first (Synthea names them ``*Information*``),
    so the patient bundles that point at those Organizations and Practitioners resolve.
    """
    if path.is_file() and path.suffix == ".zip":
        archive = zipfile.ZipFile(path)
        names = [(n, archive) for n in archive.namelist() if n.endswith(".json")]
    elif path.is_dir():
        names = [(str(p), p) for p in sorted(path.rglob("*.json"))]
    else:
        names = [(str(path), path)]
    return sorted(names, key=lambda item: ("Information" not in Path(item[0]).name, item[0]))


def read_bundle(name: str, source: Path | zipfile.ZipFile) -> dict:
    """Parse one bundle from a zip member or a file."""
    if isinstance(source, zipfile.ZipFile):
        return json.loads(source.read(name))
    return json.loads(Path(source).read_text(encoding="utf-8"))
