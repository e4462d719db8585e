"""Install a model package into a user models folder, all or nothing.

The package is verified, copied (with fsync) into a hidden staging folder beside its destination,
verified again there and renamed into place, so a kill at any moment leaves either the previous
state or the whole new package, never a half-copied one. Replacing an installed version (``force``)
first renames the old folder aside; :func:`recover` (run by every install) puts it back if the
process died between the two renames, and removes abandoned staging folders. Installs into one
folder take turns through a lock file.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medai.config import Settings, get_settings
from medai.models.errors import ModelPackageError
from medai.models.manifest import MANIFEST_FILE
from medai.models.package import ModelPackage, load_package

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_LOCK_FILE = ".install.lock"
_PARTIAL, _OLD = ".partial", ".old"


@dataclass(frozen=True)
class InstallResult:
    """Where the package now lives and what the install did: ``installed``, ``replaced`` or ``unchanged``."""

    package: ModelPackage
    action: str


def user_models_dir(settings: Settings | None = None) -> Path:
    """The folder ``medai models install`` writes to: the first of ``MEDAI_MODEL_DIRS``, else ``<home>/models``."""
    settings = settings or get_settings()
    return settings.model_dirs[0] if settings.model_dirs else settings.home / "models"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(models_dir: Path) -> Iterator[None]:
    with (models_dir / _LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel if the process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(models_dir: Path) -> list[str]:
    """Finish what an interrupted install left: restore a set-aside package whose replacement never arrived,
    and delete staging and set-aside folders. Returns what it did, one line per folder."""
    done = []
    for hidden in sorted(models_dir.glob(".*")):
        if not hidden.is_dir():
            continue
        if hidden.name.endswith(_OLD):
            target = models_dir / hidden.name[1:].rsplit(".", 2)[0]
            if not target.exists():
                hidden.rename(target)
                done.append(f"restored {target.name} (its replacement was interrupted)")
                continue
        if hidden.name.endswith((_OLD, _PARTIAL)):
            shutil.rmtree(hidden)
            done.append(f"removed {hidden.name} (left by an interrupted install)")
    if done:
        _fsync(models_dir)
    return done


def _copy_verified(source: ModelPackage, staging: Path) -> None:
    for relpath in [*source.manifest.files, MANIFEST_FILE]:
        destination = staging / relpath
        destination.parent.mkdir(parents=True, exist_ok=True)
        with (source.path / relpath).open("rb") as reader, destination.open("xb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
    for folder in sorted({p.parent for p in staging.rglob("*")}, key=lambda p: len(p.parts), reverse=True):
        _fsync(folder)


def _same(a: ModelPackage, b: ModelPackage) -> bool:
    return a.manifest.files == b.manifest.files and a.weights_sha256 == b.weights_sha256


def install_package(source: str | os.PathLike[str], models_dir: str | os.PathLike[str] | None = None,
                    force: bool = False) -> InstallResult:
    """Verify the package at ``source`` and install it as ``<models_dir>/<name>-<version>``.

    Installing the same package again changes nothing; a different package under an installed name and
    version is refused unless ``force``. Raises :class:`ModelPackageError` naming each problem."""
    package = load_package(source)
    for label, value in (("name", package.name), ("version", package.version)):
        if not _SAFE_NAME.fullmatch(value) or ".." in value:
            raise ModelPackageError(package.path, [f"{MANIFEST_FILE}: {label} {value!r} cannot name a folder "
                                                   "(letters, digits and . _ + - only)"])
    root = Path(models_dir) if models_dir is not None else user_models_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{package.name}-{package.version}"
    with _locked(root):
        recover(root)
        previous = None
        if target.exists():
            try:
                previous = load_package(target)
            except ModelPackageError:
                previous = None
            if previous is not None and _same(previous, package):
                return InstallResult(previous, "unchanged")
            if not force:
                state = "a different package" if previous is not None else "a broken package"
                raise ModelPackageError(target, [f"already holds {state} {package.name} {package.version}; "
                                                 "pass --force to replace it"])
        staging = root / f".{target.name}.{uuid.uuid4().hex[:12]}{_PARTIAL}"
        staging.mkdir()
        try:
            _copy_verified(package, staging)
            load_package(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        replaced = target.exists()
        if replaced:
            aside = root / f".{target.name}.{uuid.uuid4().hex[:12]}{_OLD}"
            target.rename(aside)
            staging.rename(target)
            _fsync(root)
            shutil.rmtree(aside)
        else:
            staging.rename(target)
            _fsync(root)
        return InstallResult(load_package(target), "replaced" if replaced else "installed")
