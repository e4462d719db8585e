"""Treatment knowledge files: the loader of ``assets/knowledge/treatment/`` (schemas build on :mod:`medai.core.knowledge`).

Every dosing table, coefficient set and guideline step in ``assets/knowledge/treatment/`` is a
versioned YAML file validated by a pydantic schema; each entry carries the source it comes from.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from medai.core.knowledge import Citation, KnowledgeError, KnowledgeFile, Schema, Strict, parse_knowledge

__all__ = ["Citation", "KnowledgeError", "KnowledgeFile", "Strict", "load_knowledge", "parse_knowledge"]

FOLDER = "knowledge/treatment"


def load_knowledge(name: str, schema: type[Schema], path: str | Path | None = None) -> Schema:
    """Load ``name`` from the shipped knowledge folder (or from ``path``) and validate it."""
    if path is not None:
        return parse_knowledge(Path(path).read_text(encoding="utf-8"), schema, str(path))
    return _shipped(name, schema)


@lru_cache(maxsize=None)
def _shipped(name: str, schema: type[Schema]) -> Schema:
    text = resources.files("medai.assets").joinpath(f"{FOLDER}/{name}").read_text(encoding="utf-8")
    return parse_knowledge(text, schema, f"{FOLDER}/{name}")
