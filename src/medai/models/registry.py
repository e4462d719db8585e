"""The model registry: finds model packages shipped with medai and in the user's folders."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from medai.config import Settings, get_settings
from medai.models.errors import ModelNotFoundError, ModelPackageError
from medai.models.manifest import CARD_FILE, MANIFEST_FILE
from medai.models.package import ModelPackage, load_package

Source = Literal["shipped", "user"]


def shipped_models_dir() -> Path:
    """The folder of model packages that ship inside medai (``medai/assets/models``)."""
    return Path(__file__).resolve().parent.parent / "assets" / "models"


@dataclass(frozen=True)
class ModelSummary:
    """One package found by the registry; ``error`` says why it does not load (``None`` when it does)."""

    name: str
    version: str | None
    task: str | None
    path: Path
    source: Source
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the package loaded and verified."""
        return self.error is None


class ModelRegistry:
    """Model packages in ``dirs`` (source ``"user"``) and, unless ``shipped=False``, those shipped with medai.

    A package is any folder holding ``manifest.json`` or ``card.json``, at any depth below a searched
    folder (e.g. ``<dir>/<name>/<version>/``); hidden folders, such as partial writes, are skipped.
    When a name and version occur twice, user folders win over shipped ones, earlier ``dirs`` over later.
    """

    def __init__(self, dirs: Iterable[str | os.PathLike[str]] = (), *, shipped: bool = True):
        self.dirs = tuple(Path(d) for d in dirs)
        self.shipped = shipped

    def list(self) -> list[ModelSummary]:
        """Every package found, sorted by name then version; broken ones carry their error instead of raising."""
        summaries = [_summarise(folder, source) for folder, source in self._package_folders()]
        return sorted(summaries, key=lambda s: (s.name, _version_key(s.version or "")))

    def get(self, name: str, version: str | None = None) -> ModelPackage:
        """Load and verify the package ``name`` at ``version`` (the latest version when ``None``)."""
        found: list[tuple[str, Path]] = []
        for folder, _ in self._package_folders():
            peeked_name, peeked_version = _peek(folder)
            if peeked_name == name:
                found.append((peeked_version or "", folder))
        if not found:
            raise ModelNotFoundError(f"model {name!r}", self._available_names())
        if version is None:
            return load_package(max(found, key=lambda item: _version_key(item[0]))[1])
        for candidate_version, folder in found:
            if candidate_version == version:
                return load_package(folder)
        versions = ", ".join(sorted({v for v, _ in found}, key=_version_key))
        raise ModelNotFoundError(f"version {version!r} of model {name!r}", f"available versions: {versions}")

    def _roots(self) -> list[tuple[Path, Source]]:
        roots: list[tuple[Path, Source]] = [(d, "user") for d in self.dirs]
        if self.shipped:
            roots.append((shipped_models_dir(), "shipped"))
        return roots

    def _package_folders(self) -> Iterator[tuple[Path, Source]]:
        for root, source in self._roots():
            for folder in _find_packages(root):
                yield folder, source

    def _available_names(self) -> str:
        names = sorted({name for folder, _ in self._package_folders() if (name := _peek(folder)[0])})
        if names:
            return f"available models: {', '.join(names)}"
        searched = ", ".join(str(root) for root, _ in self._roots()) or "no folders"
        return f"no model packages found in {searched}; add a folder with MEDAI_MODEL_DIRS"


def default_registry(settings: Settings | None = None) -> ModelRegistry:
    """The registry of the shipped packages plus the folders in ``settings.model_dirs`` (``MEDAI_MODEL_DIRS``), or,
    when none are set, the default folder ``medai models install`` writes to."""
    from medai.models.install import user_models_dir

    settings = settings or get_settings()
    return ModelRegistry([*settings.model_dirs] or [user_models_dir(settings)])


def _find_packages(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for current, subdirs, filenames in os.walk(root):
        if MANIFEST_FILE in filenames or CARD_FILE in filenames:
            subdirs.clear()
            yield Path(current)
        else:
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))


def _summarise(folder: Path, source: Source) -> ModelSummary:
    try:
        package = load_package(folder)
    except ModelPackageError as exc:
        name, version = _peek(folder)
        return ModelSummary(name or folder.name, version, None, folder, source, error=str(exc))
    return ModelSummary(package.name, package.version, package.card.task, folder, source)


def _peek(folder: Path) -> tuple[str | None, str | None]:
    """Name and version from the manifest (else the card) without verifying anything."""
    for filename in (MANIFEST_FILE, CARD_FILE):
        try:
            data = json.loads((folder / filename).read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            version = data.get("version")
            return data["name"], version if isinstance(version, str) else None
    return None, None


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Order versions so 1.10 > 1.9, 1.0.1 > 1.0 and 1.0 > 1.0rc1 (numbers beat the end, which beats text)."""
    parts = [(2, int(p), "") if p.isdigit() else (0, 0, p) for p in re.findall(r"\d+|[A-Za-z]+", version)]
    return (*parts, (1, 0, ""))
