"""Treatment knowledge files: the shared ``Citation`` model and a validating YAML loader.

Every dosing table, coefficient set and guideline step in ``assets/knowledge/treatment/`` is a
versioned YAML file validated by a pydantic schema; each entry carries the source it comes from.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.errors import InvalidInput, Problem

FOLDER = "knowledge/treatment"


class Strict(BaseModel):
    """Base of knowledge-file schemas: unknown keys are errors and parsed entries are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(Strict):
    """Where a rule or number comes from: a document, and where in it."""

    source: str = Field(min_length=3, description="The document: label, guideline or paper (authors, journal, year).")
    section: str | None = Field(default=None, description="Section, table or figure that holds the fact.")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")

    def __str__(self) -> str:
        return self.source + (f", {self.section}" if self.section else "")


class KnowledgeFile(Strict):
    """Fields every treatment knowledge file starts with."""

    version: str = Field(min_length=1)
    description: str = Field(min_length=1)


class KnowledgeError(InvalidInput):
    """A knowledge file that does not match its schema (names the file and each bad field)."""


Schema = TypeVar("Schema", bound=BaseModel)


def parse_knowledge(text: str, schema: type[Schema], name: str) -> Schema:
    """Validate YAML ``text`` against ``schema``; errors name the file and the field path."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KnowledgeError(Problem(name, f"not valid YAML: {exc}")) from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(f"{name}: {'.'.join(str(p) for p in err['loc'])}", err["msg"]) for err in exc.errors()[:20]]
        raise KnowledgeError(problems) from None


def load_knowledge(name: str, schema: type[Schema], path: str | Path | None = None) -> Schema:
    """Load ``name`` from the shipped knowledge folder (or from ``path``) and validate it."""
    if path is not None:
        return parse_knowledge(Path(path).read_text(encoding="utf-8"), schema, str(path))
    return _shipped(name, schema)


@lru_cache(maxsize=None)
def _shipped(name: str, schema: type[Schema]) -> Schema:
    text = resources.files("medai.assets").joinpath(f"{FOLDER}/{name}").read_text(encoding="utf-8")
    return parse_knowledge(text, schema, f"{FOLDER}/{name}")
