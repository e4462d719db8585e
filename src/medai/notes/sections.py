"""Section detection for clinical notes: headers such as ``FAMILY HISTORY:`` -> normalised names.

Headers and their normalised names are data (``assets/knowledge/notes/sections.yaml``, validated
by :class:`SectionRules`). A header counts at the start of a line (or of the text) followed by a
colon, or alone on its line; unknown capitalised ``HEADER:`` lines open a section named
``other``, so a listed section never runs on into an unlisted one. Each :class:`Section` keeps
the header span that opened it, so a section-based assertion default can point at its evidence.

>>> [s.name for s in detect("PAST MEDICAL HISTORY: Asthma.\\nFAMILY HISTORY: Mother had breast cancer.")]
['past_medical_history', 'family_history']
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from medai.notes.context import read_rules
from medai.core.knowledge import Citation, KnowledgeFile, Strict

RULES_FILE = "knowledge/notes/sections.yaml"
OTHER = "other"


class SectionRule(Strict):
    """One normalised section, the headers that open it, and its default assertion."""

    name: str = Field(pattern=r"^[a-z][a-z_]*$")
    source: str
    assertion: Literal["family", "historical"] | None = None
    headers: list[str] = Field(min_length=1)


class SectionRules(KnowledgeFile):
    """The section file."""

    sources: dict[str, Citation]
    sections: list[SectionRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> SectionRules:
        seen: dict[str, str] = {}
        for rule in self.sections:
            if rule.source not in self.sources:
                raise ValueError(f"section {rule.name}: source {rule.source!r} is not in sources")
            for header in rule.headers:
                key = _key(header)
                if key in seen:
                    raise ValueError(f"header {header!r} is listed under {seen[key]} and {rule.name}")
                seen[key] = rule.name
        return self


@dataclass(frozen=True)
class Section:
    """A section of a note: normalised ``name``, its header span and its body ``[start, end)``."""

    name: str
    header: str
    header_start: int
    header_end: int
    start: int
    end: int
    assertion: str | None = None


def _key(header: str) -> str:
    return " ".join(header.upper().split())


def load_rules(path: str | Path | None = None) -> SectionRules:
    """The shipped section rules, or a user's file in the same schema."""
    return read_rules(RULES_FILE, SectionRules, path)


class SectionDetector:
    """Compiled header patterns of one :class:`SectionRules`."""

    def __init__(self, rules: SectionRules):
        self.rules = {_key(h): r for r in rules.sections for h in r.headers}
        known = "|".join(r"\s+".join(re.escape(w) for w in h.split()) for h in sorted(self.rules, key=len, reverse=True))
        self._regex = re.compile(
            r"(?m)^[ \t]*(?:(?P<known>(?i:" + known + r"))[ \t]*(?::|$)"
            r"|(?P<other>[A-Z][A-Z0-9/&()'-]*(?:[ \t]+[A-Z0-9/&()'-]+){0,7})[ \t]*:)")

    def detect(self, text: str) -> list[Section]:
        """Sections of ``text`` in order; text before the first header belongs to no section."""
        heads = []
        for m in self._regex.finditer(text):
            group = "known" if m.group("known") else "other"
            rule = self.rules.get(_key(m.group(group))) if group == "known" else self.rules.get(_key(m.group("other")))
            heads.append((m.start(group), m.end(group), m.end(), rule))
        sections = []
        for i, (h_start, h_end, body_start, rule) in enumerate(heads):
            end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
            sections.append(Section(rule.name if rule else OTHER, text[h_start:h_end], h_start, h_end, body_start, end,
                                    rule.assertion if rule else None))
        return sections


@lru_cache(maxsize=1)
def default_detector() -> SectionDetector:
    """The detector over the shipped rules."""
    return SectionDetector(load_rules())


def detect(text: str) -> list[Section]:
    """Sections of ``text`` with the shipped rules."""
    return default_detector().detect(text)


def section_at(sections: list[Section], offset: int) -> Section | None:
    """The section whose header or body holds ``offset`` (``sections`` in text order)."""
    i = bisect_right([s.header_start for s in sections], offset) - 1
    if i >= 0 and offset < sections[i].end:
        return sections[i]
    return None
