"""Synthea FHIR R4 transaction bundles (SMART Health IT sample set), from a zip or a folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from medai.core.fhir.files import bundle_files, read_bundle
from medai.datasets.registry import locate


def load(root: str | Path | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (file name, bundle) for every bundle of the dataset, reference bundles first."""
    folder = locate("synthea_fhir_r4", root)
    for name, source in bundle_files(folder / "R4_SYNTHEA.zip"):
        yield name, read_bundle(name, source)
