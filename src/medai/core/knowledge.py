"""Knowledge files shared by every application: the ``Citation`` model and a validating YAML parser.

Rules, tables, lexicons and guideline steps live in versioned YAML files under ``assets/knowledge/``;
each application declares a pydantic schema for its files (built on ``Strict`` and ``Citation``) and
parses them with :func:`parse_knowledge`, whose errors name the file and the field.
"""

from __future__ import annotations

from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.errors import InvalidInput, Problem


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
    """Fields every knowledge file starts with."""

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
