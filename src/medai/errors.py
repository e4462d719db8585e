"""Errors shared by every layer. Each names the problem so a user can fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    location: str
    message: str
    code: str = "invalid"  # a FHIR issue-type code: invalid, required, value, code-invalid, not-found, ...


class InvalidInput(ValueError):
    """Input that cannot be accepted; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(f"{p.location}: {p.message}" for p in self.problems))


class NotFound(LookupError):
    """A requested record does not exist (or is not visible to the caller)."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(f"{what} not found")
