"""Practitioners to schedule: from the Synthea reference bundle (``practitionerInformation*.json``)."""

from __future__ import annotations

from pathlib import Path

from medai.datasets import synthea


def practitioner_name(practitioner: dict) -> str:
    """"Dr. Given Family" from the first HumanName."""
    name = (practitioner.get("name") or [{}])[0]
    return " ".join([*name.get("prefix", []), *name.get("given", []), name.get("family", "")]).strip() or practitioner.get("id", "")


def synthea_practitioners(root: str | Path | None = None, limit: int | None = None) -> list[dict]:
    """The Practitioner resources of the Synthea set (read from its reference bundle, which comes first)."""
    found: list[dict] = []
    for name, bundle in synthea.load(root):
        if "practitionerInformation" not in name:
            if found:
                break
            continue
        found += [e["resource"] for e in bundle.get("entry", []) if e.get("resource", {}).get("resourceType") == "Practitioner"]
        if limit and len(found) >= limit:
            return found[:limit]
    return found
