"""The manifest of a model package: every file with its sha256, plus the digests' helpers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medai.models._relpath import RelPath

CARD_FILE = "card.json"
MANIFEST_FILE = "manifest.json"
WEIGHTS_SUFFIXES = (".safetensors", ".onnx", ".json", ".yaml", ".yml")
"""Files that hold a model: tensors, ONNX graphs, or rules/parameters as data (never pickles)."""

_CHUNK = 1 << 20

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def is_weights_file(relpath: str) -> bool:
    """Whether a package file holds (part of) the model, as opposed to the card, manifest or a plot."""
    return relpath not in (CARD_FILE, MANIFEST_FILE) and relpath.lower().endswith(WEIGHTS_SUFFIXES)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large weights do not fill memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def combined_weights_digest(files: Mapping[str, str]) -> str:
    """One sha256 for all weights files: the digest of their ``"<sha256>  <path>\\n"`` lines sorted by path."""
    lines = "".join(f"{files[rel]}  {rel}\n" for rel in sorted(files) if is_weights_file(rel))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


class Manifest(BaseModel):
    """``manifest.json``: identity of the package and the sha256 of every file in it except itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    medai_version: str = Field(min_length=1)
    created: datetime
    files: dict[RelPath, Sha256]
    weights_sha256: Sha256

    @model_validator(mode="after")
    def _complete(self) -> Manifest:
        if CARD_FILE not in self.files:
            raise ValueError(f"files must list {CARD_FILE}")
        if MANIFEST_FILE in self.files:
            raise ValueError(f"files must not list {MANIFEST_FILE} itself")
        if not any(is_weights_file(rel) for rel in self.files):
            raise ValueError(f"files list no weights file (one of {', '.join(WEIGHTS_SUFFIXES)})")
        return self
