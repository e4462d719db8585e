"""Loading the assistant's knowledge files (``assets/knowledge/assistant/...``) with pydantic validation.

The schema base (``Strict``), ``Citation`` and the YAML validation are the treatment knowledge helpers;
only the folder differs.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from medai.core.knowledge import Citation, KnowledgeError, Strict, parse_knowledge

__all__ = ["Citation", "KnowledgeError", "Strict", "load_assistant_knowledge"]
FOLDER = "knowledge/assistant"
Schema = TypeVar("Schema", bound=BaseModel)


def load_assistant_knowledge(name: str, schema: type[Schema], path: str | Path | None = None) -> Schema:
    """Validate ``name`` (e.g. ``"safety/crisis_lexicon.yaml"``) from the shipped folder, or the file at ``path``."""
    if path is not None:
        return parse_knowledge(Path(path).read_text(encoding="utf-8"), schema, str(path))
    return _shipped(name, schema)


@lru_cache(maxsize=None)
def _shipped(name: str, schema: type[Schema]) -> Schema:
    text = resources.files("medai.assets").joinpath(f"{FOLDER}/{name}").read_text(encoding="utf-8")
    return parse_knowledge(text, schema, f"{FOLDER}/{name}")
