"""Model packages: a folder of weights, ``card.json`` and a hash-checked ``manifest.json``.

A package is written into a hidden staging folder next to its destination and renamed into place,
so a crash never leaves a half-written package where the registry looks.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from medai import __version__
from medai.models._relpath import package_relpath
from medai.models.card import ModelCard, parse_card
from medai.models.errors import ModelCardError, ModelPackageError, ModelPackageWarning, validation_problems
from medai.models.manifest import (
    CARD_FILE,
    MANIFEST_FILE,
    WEIGHTS_SUFFIXES,
    Manifest,
    combined_weights_digest,
    is_weights_file,
    sha256_file,
)


@dataclass(frozen=True)
class ModelPackage:
    """A verified model package on disk; obtain one from :func:`load_package` or :func:`save_package`."""

    path: Path
    card: ModelCard
    manifest: Manifest
    extra_files: tuple[str, ...] = ()
    """Files in the folder that the manifest does not list (never served by :meth:`file`)."""

    @property
    def name(self) -> str:
        """The model id."""
        return self.manifest.name

    @property
    def version(self) -> str:
        """The model version."""
        return self.manifest.version

    @property
    def weights_sha256(self) -> str:
        """Combined sha256 of the weights files (see :func:`~medai.models.manifest.combined_weights_digest`)."""
        return self.manifest.weights_sha256

    @property
    def weights_files(self) -> tuple[str, ...]:
        """Relative paths of the files that hold the model, sorted."""
        return tuple(sorted(rel for rel in self.manifest.files if is_weights_file(rel)))

    def file(self, relpath: str) -> Path:
        """Absolute path of a file the manifest lists (and :func:`load_package` verified)."""
        if relpath not in self.manifest.files:
            listed = ", ".join(sorted(self.manifest.files))
            raise ModelPackageError(self.path, [f"{relpath}: not listed in {MANIFEST_FILE} (listed: {listed})"])
        return self.path / relpath

    def identity(self) -> dict[str, str]:
        """What an audit record of a prediction stores about the model that made it."""
        return {"model_id": self.name, "model_version": self.version, "weights_sha256": self.weights_sha256}


def save_package(
    directory: str | os.PathLike[str], card: ModelCard, files: Mapping[str, bytes | Path]
) -> ModelPackage:
    """Write ``files`` (relative path -> bytes, or a file to copy), ``card.json`` and ``manifest.json`` atomically.

    ``directory`` must not exist yet: a new version goes into a new folder. At least one file must be
    weights (``*.safetensors``, ``*.onnx``, or ``*.json`` / ``*.yaml`` for rule-based models) and every
    plot the card names must be among ``files``.
    """
    target = Path(directory)
    _check_contents(target, card, files)
    if target.exists():
        raise ModelPackageError(target, ["already exists; write the new version into a new folder or remove this one"])
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.partial"
    staging.mkdir()
    try:
        manifest = _write_package(staging, card, files)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_directory(target.parent)
    return ModelPackage(path=target, card=card, manifest=manifest)


def load_package(directory: str | os.PathLike[str]) -> ModelPackage:
    """Load a package, checking every listed file's sha256, the combined weights digest and the card.

    Raises :class:`ModelPackageError` listing each missing or altered file; files the manifest does not
    list are reported in ``extra_files`` and with a :class:`ModelPackageWarning`.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ModelPackageError(root, ["not a folder (a model package is a folder with card.json and manifest.json)"])
    manifest = _read_manifest(root)
    problems = [problem for rel, expected in manifest.files.items() if (problem := _check_file(root, rel, expected))]
    if manifest.weights_sha256 != combined_weights_digest(manifest.files):
        problems.append(f"{MANIFEST_FILE}: weights_sha256 does not match the digests of the listed weights files")
    if problems:
        raise ModelPackageError(root, problems)
    card = _read_card(root, manifest)
    extra = _unlisted_files(root, manifest)
    if extra:
        warnings.warn(
            f"model package {root} holds files its manifest does not list (ignored): {', '.join(extra)}",
            ModelPackageWarning,
            stacklevel=2,
        )
    return ModelPackage(path=root, card=card, manifest=manifest, extra_files=extra)


def _check_contents(target: Path, card: ModelCard, files: Mapping[str, bytes | Path]) -> None:
    problems = []
    for rel, content in files.items():
        try:
            package_relpath(rel)
        except ValueError as exc:
            problems.append(str(exc))
        if rel in (CARD_FILE, MANIFEST_FILE):
            problems.append(f"{rel}: written by save_package from its arguments; leave it out of files")
        if isinstance(content, Path):
            if not content.is_file():
                problems.append(f"{rel}: source {content} is not a file")
        elif not isinstance(content, bytes):
            problems.append(f"{rel}: content must be bytes or a Path, not {type(content).__name__}")
    if not any(is_weights_file(rel) for rel in files):
        problems.append(f"no weights file among files (expected one of {', '.join(WEIGHTS_SUFFIXES)})")
    problems += [f"{p.file}: plot named in the card but not among files" for p in card.plots if p.file not in files]
    if problems:
        raise ModelPackageError(target, problems)


def _write_package(staging: Path, card: ModelCard, files: Mapping[str, bytes | Path]) -> Manifest:
    digests = {rel: _write(staging / rel, content) for rel, content in files.items()}
    digests[CARD_FILE] = _write(staging / CARD_FILE, card.model_dump_json(indent=2).encode("utf-8") + b"\n")
    manifest = Manifest(
        name=card.name,
        version=card.version,
        medai_version=__version__,
        created=datetime.now(UTC),
        files=dict(sorted(digests.items())),
        weights_sha256=combined_weights_digest(digests),
    )
    _write(staging / MANIFEST_FILE, manifest.model_dump_json(indent=2).encode("utf-8") + b"\n")
    return manifest


def _write(path: Path, content: bytes | Path) -> str:
    """Write and fsync one file; return its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:
        if isinstance(content, bytes):
            handle.write(content)
        else:
            with content.open("rb") as source:
                shutil.copyfileobj(source, handle)
        handle.flush()
        os.fsync(handle.fileno())
    return sha256_file(path)


def _fsync_directory(path: Path) -> None:
    """Make a rename inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_manifest(root: Path) -> Manifest:
    path = root / MANIFEST_FILE
    if not path.is_file():
        raise ModelPackageError(root, [f"{MANIFEST_FILE}: missing (not a model package, or its manifest was deleted)"])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelPackageError(root, [f"{MANIFEST_FILE}: unreadable ({exc})"]) from exc
    try:
        return Manifest.model_validate_json(raw)
    except ValidationError as exc:
        reason = "; ".join(f"{p.location}: {p.message}" for p in validation_problems(exc, root="manifest"))
        raise ModelPackageError(root, [f"{MANIFEST_FILE}: unreadable ({reason})"]) from exc


def _check_file(root: Path, rel: str, expected: str) -> str | None:
    path = root / rel
    if not path.is_file():
        return f"{rel}: missing (listed in {MANIFEST_FILE})"
    actual = sha256_file(path)
    if actual != expected:
        return f"{rel}: altered (sha256 expected {expected[:12]}…, found {actual[:12]}…)"
    return None


def _read_card(root: Path, manifest: Manifest) -> ModelCard:
    try:
        card = parse_card((root / CARD_FILE).read_bytes())
    except ModelCardError as exc:
        raise ModelPackageError(root, [f"{CARD_FILE}: invalid ({exc})"]) from exc
    if (card.name, card.version) != (manifest.name, manifest.version):
        card_id, manifest_id = f"{card.name} {card.version}", f"{manifest.name} {manifest.version}"
        raise ModelPackageError(root, [f"{CARD_FILE}: names {card_id} but {MANIFEST_FILE} names {manifest_id}"])
    return card


def _unlisted_files(root: Path, manifest: Manifest) -> tuple[str, ...]:
    present = (path.relative_to(root).as_posix() for path in root.rglob("*") if not path.is_dir())
    return tuple(sorted(rel for rel in present if rel != MANIFEST_FILE and rel not in manifest.files))
