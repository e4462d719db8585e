"""File paths stored inside a model package: relative, '/'-separated, never leaving the package."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator


def package_relpath(value: str) -> str:
    """Return ``value`` if it is a normalised relative POSIX path inside a package; else raise ``ValueError``."""
    path = PurePosixPath(value)
    if value in ("", ".") or "\\" in value or path.is_absolute() or ".." in path.parts or str(path) != value:
        raise ValueError(f"{value!r} must be a normalised relative path inside the package, using '/' and no '..'")
    return value


RelPath = Annotated[str, AfterValidator(package_relpath)]
"""A string validated by :func:`package_relpath`."""
