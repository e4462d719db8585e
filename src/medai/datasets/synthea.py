"""Synthea FHIR R4 transaction bundles (SMART Health IT sample set), from a zip or a folder."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

from medai.datasets.registry import locate


def bundle_files(path: Path) -> list[tuple[str, Path | zipfile.ZipFile]]:
    """The bundle names in a folder or zip, reference bundles (organisations, practitioners) first."""
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


def load(root: str | Path | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (file name, bundle) for every bundle of the dataset, reference bundles first."""
    folder = locate("synthea_fhir_r4", root)
    for name, source in bundle_files(folder / "R4_SYNTHEA.zip"):
        yield name, read_bundle(name, source)
