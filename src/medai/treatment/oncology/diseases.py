"""Tumour type -> Disease Ontology ids, for matching CIViC evidence to a patient's cancer.

CIViC gives each evidence item one DOID and no hierarchy. The tumour types and their DO subtype
relations that matter are curated in ``assets/knowledge/treatment/tumour_types.yaml``.
Resolution of what the user typed, in order:

1. a listed tumour (name, synonym or DOID): evidence on its DOID is ``exact``, on any DO subtype
   ``subtype``, on a broader DO ancestor (e.g. "cancer") ``broader``;
2. an unlisted ``DOID:n``: evidence on exactly that DOID is ``exact``;
3. otherwise (documented fallback) CIViC's own disease names: equal names are ``exact``, a name
   containing the text (or the reverse) is ``name``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medai.datasets.civic import EvidenceItem
from medai.errors import InvalidInput, Problem
from medai.treatment.knowledge import Citation, KnowledgeFile, load_knowledge

DiseaseMatch = Literal["exact", "subtype", "broader", "name"]
DISEASE_MATCH_ORDER: dict[str, int] = {"exact": 0, "subtype": 1, "name": 1, "broader": 2}


class TumourType(BaseModel):
    """A tumour type with its DOID, the names users give it and its DO subtypes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    doid: str = Field(pattern=r"^\d+$")
    name: str
    synonyms: list[str] = Field(default_factory=list)
    subtypes: list[str] = Field(default_factory=list)
    citation: Citation


class TumourTypes(KnowledgeFile):
    """``tumour_types.yaml``."""

    references: dict[str, Citation] = Field(default_factory=dict)
    tumours: list[TumourType] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "TumourTypes":
        doids = {t.doid for t in self.tumours}
        unknown = sorted({s for t in self.tumours for s in t.subtypes} - doids)
        if unknown:
            raise ValueError(f"subtypes not listed as tumours: {', '.join(unknown)}")
        names = [n.lower() for t in self.tumours for n in (t.name, *t.synonyms)]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"names given to two tumours: {', '.join(repeated)}")
        return self

    def descendants(self, doid: str) -> set[str]:
        """Every DO subtype below ``doid`` (transitively)."""
        by_doid = {t.doid: t for t in self.tumours}
        found, todo = set(), list(by_doid[doid].subtypes) if doid in by_doid else []
        while todo:
            child = todo.pop()
            if child not in found:
                found.add(child)
                todo += by_doid[child].subtypes if child in by_doid else []
        return found

    def ancestors(self, doid: str) -> set[str]:
        """Every listed tumour that has ``doid`` among its descendants."""
        return {t.doid for t in self.tumours if doid in self.descendants(t.doid)}


@lru_cache(maxsize=1)
def tumour_types() -> TumourTypes:
    """The shipped tumour types."""
    return load_knowledge("tumour_types.yaml", TumourTypes)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("tumour", "tumor")).strip()


class TumourScope(BaseModel):
    """What a tumour query resolved to and how evidence diseases are matched to it."""

    query: str
    label: str
    doid: str | None = None
    subtypes: set[str] = Field(default_factory=set)
    broader: set[str] = Field(default_factory=set)
    method: str = Field(description="'disease ontology', 'exact DOID' or 'name fallback'.")

    def match(self, item: EvidenceItem) -> DiseaseMatch | None:
        """How the item's disease relates to the patient's tumour, or None when unrelated."""
        if self.method == "name fallback":
            disease, query = _norm(item.disease), _norm(self.query)
            return "exact" if disease == query else "name" if query in disease or (disease and disease in query) else None
        if item.doid and item.doid == self.doid:
            return "exact"
        if item.doid in self.subtypes:
            return "subtype"
        if item.doid in self.broader:
            return "broader"
        return "exact" if _norm(item.disease) == _norm(self.label) else None


def resolve_tumour(text: str, known: TumourTypes | None = None) -> TumourScope:
    """Resolve a tumour name, synonym or DOID (``InvalidInput`` when empty)."""
    if not text or not text.strip():
        raise InvalidInput(Problem("tumour", "give the tumour type, e.g. 'melanoma' or 'DOID:1909'", "required"))
    known = known or tumour_types()
    query = _norm(text)
    doid = query.removeprefix("doid:") if re.fullmatch(r"(doid:)?\d+", query) else None
    for tumour in known.tumours:
        if doid == tumour.doid or query in (_norm(n) for n in (tumour.name, *tumour.synonyms)):
            return TumourScope(query=text, label=tumour.name, doid=tumour.doid, subtypes=known.descendants(tumour.doid),
                               broader=known.ancestors(tumour.doid), method="disease ontology")
    if doid is not None:
        return TumourScope(query=text, label=f"DOID:{doid}", doid=doid, method="exact DOID")
    return TumourScope(query=text, label=text, method="name fallback")
