"""Errors raised by model cards, model packages and the model registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from medai.errors import InvalidInput, NotFound, Problem


class ModelCardError(InvalidInput):
    """A model card that does not follow the :class:`~medai.models.ModelCard` schema."""

    def __reduce__(self) -> tuple[type[ModelCardError], tuple[list[Problem]]]:
        return (type(self), (self.problems,))


class ModelPackageError(Exception):
    """A model package on disk that is incomplete, altered or unreadable.

    ``problems`` lists every fault found, each naming the file and what is wrong.
    """

    def __init__(self, path: Path, problems: Sequence[str]):
        self.path = Path(path)
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"model package {self.path}: {self.problems[0]}"
        else:
            message = f"model package {self.path}:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)

    def __reduce__(self) -> tuple[type[ModelPackageError], tuple[Path, list[str]]]:
        return (type(self), (self.path, self.problems))


class ModelPackageWarning(UserWarning):
    """A model package that loads but holds files its manifest does not list."""


class ModelNotFoundError(NotFound):
    """No package in the registry has the requested name (or version); the message lists what exists."""

    def __init__(self, what: str, available: str):
        super().__init__(what)
        self.available = available

    def __str__(self) -> str:
        return f"{super().__str__()}; {self.available}"

    def __reduce__(self) -> tuple[type[ModelNotFoundError], tuple[str, str]]:
        return (type(self), (self.what, self.available))


def validation_problems(exc: ValidationError, root: str) -> list[Problem]:
    """Turn a pydantic error into problems whose location is the dotted field path (``root`` for the whole document)."""
    problems = []
    for error in exc.errors():
        location = _field_path(error["loc"]) or root
        if error["type"] == "missing":
            problems.append(Problem(location, "required field is missing", code="required"))
        elif error["type"] == "extra_forbidden":
            problems.append(Problem(location, "unknown field (check its spelling)"))
        else:
            problems.append(Problem(location, error["msg"], code="value"))
    return problems


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path
