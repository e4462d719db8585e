"""FHIR OperationOutcome built from medai problems."""

from __future__ import annotations

from medai.errors import Problem


def operation_outcome(problems: list[Problem], severity: str = "error") -> dict:
    """An OperationOutcome resource listing each problem with its location."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": severity, "code": p.code, "diagnostics": p.message, "expression": [p.location]}
            for p in problems
        ],
    }
