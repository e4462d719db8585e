"""Resolve the references inside a transaction Bundle to ``Type/id`` form."""

from __future__ import annotations

from collections.abc import Callable

from medai.errors import Problem


def rewrite_references(value, resolve: Callable[[str], str | None], location: str, problems: list[Problem]):
    """Return ``value`` with every ``reference`` rewritten by ``resolve``.

    ``resolve`` maps a reference string to its ``Type/id`` form, or None when it
    cannot be resolved, which adds a problem naming the reference and where it is.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and not item.startswith("#"):
                resolved = resolve(item)
                if resolved is None:
                    problems.append(Problem(f"{location}.reference", f"reference {item!r} does not resolve to a resource in the bundle or the store", "not-found"))
                out[key] = resolved or item
            else:
                out[key] = rewrite_references(item, resolve, f"{location}.{key}", problems)
        return out
    if isinstance(value, list):
        return [rewrite_references(item, resolve, f"{location}[{i}]", problems) for i, item in enumerate(value)]
    return value


def subject_patient_id(resource: dict) -> str | None:
    """The id of the patient a (reference-resolved) resource belongs to."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id")
    for key in ("subject", "patient", "beneficiary"):
        ref = (resource.get(key) or {}).get("reference", "") if isinstance(resource.get(key), dict) else ""
        if ref.startswith("Patient/"):
            return ref.removeprefix("Patient/")
    for participant in resource.get("participant", []):
        ref = (participant.get("actor") or {}).get("reference", "")
        if ref.startswith("Patient/"):
            return ref.removeprefix("Patient/")
    return None
