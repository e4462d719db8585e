"""Word lists shipped under ``assets/knowledge/privacy/`` (names, places, clinical words).

Each list is a text file, one lower-case entry a line, whose ``#`` header cites its source (see
``build_lexicons.py``). ``clinical_terms.yaml`` lists eponyms and device names that look like
names but are clinical words, each with its citation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.errors import InvalidInput, Problem

LIST_FILES = ("first_names", "surnames", "us_places", "clinical_vocabulary", "common_words")


def knowledge_dir() -> Path:
    """The folder with the privacy rules and word lists."""
    return Path(str(resources.files("medai") / "assets" / "knowledge" / "privacy"))


class ClinicalTerm(BaseModel):
    """A clinical word that also occurs as a name (eponym, device, sign), with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str = Field(min_length=2)
    kind: str = Field(min_length=1)
    citation: str = Field(min_length=3)


class ClinicalTerms(BaseModel):
    """``clinical_terms.yaml``: versioned list of name-like clinical words kept in the text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    terms: list[ClinicalTerm] = Field(min_length=1)


@dataclass(frozen=True)
class Lexicons:
    """The word lists as sets of lower-case strings."""

    first_names: frozenset[str]
    surnames: frozenset[str]
    us_places: frozenset[str]
    clinical_vocabulary: frozenset[str]
    clinical_terms: frozenset[str]
    common_words: frozenset[str] = frozenset()
    """Function words and note verbs ("on", "call", "seen") that never begin or end a PHI span."""

    def is_name(self, word: str) -> bool:
        """Whether ``word`` is a census first name or surname; a hyphenated word when each part is one
        ("Forman-Lyons"), and an apostrophe is dropped ("O'Hara" as "ohara")."""
        low = word.lower().replace("'", "").replace("\u2019", "")
        if "-" in low:
            return all(part and self.is_name(part) for part in low.split("-"))
        return low in self.first_names or low in self.surnames


def read_list(path: Path) -> frozenset[str]:
    """A one-entry-per-line list, skipping ``#`` comments and blanks."""
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))


def read_clinical_terms(path: Path) -> ClinicalTerms:
    """Validate ``clinical_terms.yaml``; ``InvalidInput`` names each bad field."""
    try:
        return ClinicalTerms.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise InvalidInput([Problem(f"{path.name}: {'.'.join(map(str, e['loc']))}", e["msg"]) for e in exc.errors()]) from exc


@lru_cache(maxsize=4)
def load_lexicons(folder: str | None = None) -> Lexicons:
    """Load (once) every word list from ``folder`` (default: the shipped knowledge folder)."""
    root = Path(folder) if folder else knowledge_dir()
    lists = {name: read_list(root / f"{name}.txt") for name in LIST_FILES}
    terms = frozenset(t.term.lower() for t in read_clinical_terms(root / "clinical_terms.yaml").terms)
    return Lexicons(**lists, clinical_terms=terms)
