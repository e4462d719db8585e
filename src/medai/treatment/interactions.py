"""Drug-drug interaction checking over a medication list, from the curated table in
``assets/knowledge/treatment/interactions.yaml``.

The table has an ingredient lexicon (names -> ingredient -> classes) and interaction rules
between drugs or classes, each with severity and source. Medication text (e.g. a FHIR
``MedicationRequest`` display such as "Simvistatin 10 MG") is matched to ingredients on whole
words, so combination products yield all their ingredients. Two ingredients of the same product
never interact with each other here; a drug never interacts with itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
from itertools import combinations
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medai.treatment.knowledge import Citation, KnowledgeFile, load_knowledge

Severity = Literal["contraindicated", "major", "moderate", "minor"]
SEVERITY_ORDER: dict[str, int] = {"contraindicated": 0, "major": 1, "moderate": 2, "minor": 3}


class DrugEntry(BaseModel):
    """One ingredient: the names it is prescribed under and the classes it belongs to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2)
    names: list[str] = Field(min_length=1)
    classes: list[str] = Field(default_factory=list)
    citation: Citation


class Party(BaseModel):
    """One side of an interaction: a drug, a list of drugs, a class or a list of classes."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    drug: str | None = None
    drugs: list[str] | None = None
    class_: str | None = Field(default=None, alias="class")
    classes: list[str] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Party":
        given = [v for v in (self.drug, self.drugs, self.class_, self.classes) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of drug, drugs, class, classes")
        return self

    @property
    def drug_names(self) -> list[str]:
        """Drugs named directly."""
        return [self.drug] if self.drug else list(self.drugs or [])

    @property
    def class_names(self) -> list[str]:
        """Classes named."""
        return [self.class_] if self.class_ else list(self.classes or [])

    def describe(self) -> str:
        """Human-readable: the drugs or classes."""
        return ", ".join(self.drug_names or self.class_names)


class Interaction(BaseModel):
    """A clinically significant interaction between two parties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    a: Party
    b: Party
    severity: Severity
    effect: str = Field(min_length=3)
    mechanism: str = Field(min_length=3)
    management: str = Field(min_length=3)
    citation: Citation


class InteractionTable(KnowledgeFile):
    """The whole interaction knowledge file."""

    references: dict[str, Citation] = Field(default_factory=dict)
    drugs: list[DrugEntry] = Field(min_length=1)
    interactions: list[Interaction] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "InteractionTable":
        names = [d.name for d in self.drugs]
        duplicates = sorted(n for n, k in Counter(names).items() if k > 1)
        if duplicates:
            raise ValueError(f"drug names listed twice: {', '.join(duplicates)}")
        ids = [i.id for i in self.interactions]
        repeated = sorted(n for n, k in Counter(ids).items() if k > 1)
        if repeated:
            raise ValueError(f"interaction ids listed twice: {', '.join(repeated)}")
        known_classes = {c for d in self.drugs for c in d.classes}
        known_drugs = set(names)
        for rule in self.interactions:
            for side in (rule.a, rule.b):
                unknown = [c for c in side.class_names if c not in known_classes]
                unknown += [d for d in side.drug_names if d not in known_drugs]
                if unknown:
                    raise ValueError(f"interaction {rule.id}: unknown drug or class {', '.join(unknown)}")
        return self

    @cached_property
    def _members(self) -> dict[str, set[str]]:
        """Class name -> ingredients in it."""
        members: dict[str, set[str]] = {}
        for drug in self.drugs:
            for cls in drug.classes:
                members.setdefault(cls, set()).add(drug.name)
        return members

    def ingredients_of(self, party: Party) -> set[str]:
        """Every ingredient a party covers."""
        out = set(party.drug_names)
        for cls in party.class_names:
            out |= self._members.get(cls, set())
        return out

    @cached_property
    def _patterns(self) -> list[tuple[re.Pattern, DrugEntry]]:
        patterns = []
        for drug in self.drugs:
            alternatives = "|".join(re.escape(n.lower()) for n in sorted(drug.names, key=len, reverse=True))
            patterns.append((re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z])"), drug))
        return patterns

    def identify(self, text: str) -> list[DrugEntry]:
        """The ingredients named in a medication's text (whole-word, case-insensitive)."""
        lowered = text.lower()
        return [drug for pattern, drug in self._patterns if pattern.search(lowered)]

    def classes_of(self, ingredient: str) -> list[str]:
        """The classes of an ingredient (empty when unknown)."""
        return next((list(d.classes) for d in self.drugs if d.name == ingredient), [])


@lru_cache(maxsize=4)
def interaction_table(path: str | None = None) -> InteractionTable:
    """The interaction table: the shipped one, or a replacement file at ``path``."""
    return load_knowledge("interactions.yaml", InteractionTable, Path(path) if path else None)


class MedicationItem(BaseModel):
    """One medication as given, with the ingredients and classes recognised in it."""

    label: str
    source_id: str | None = Field(default=None, description="'Type/id' of the FHIR resource it came from.")
    ingredients: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list)


def identify_medication(label: str, source_id: str | None = None, table: InteractionTable | None = None) -> MedicationItem:
    """A ``MedicationItem`` for medication text, with its recognised ingredients and classes."""
    table = table or interaction_table()
    drugs = table.identify(label)
    classes = sorted({c for d in drugs for c in d.classes})
    return MedicationItem(label=label, source_id=source_id, ingredients=[d.name for d in drugs], classes=classes)


class InteractionFinding(BaseModel):
    """One interaction found between two medications on the list."""

    id: str
    severity: Severity
    medications: tuple[str, str] = Field(description="The two medication texts as given.")
    ingredients: tuple[str, str]
    rule: str = Field(description="The rule in words, e.g. 'statin_cyp3a4 + strong_cyp3a4_inhibitor'.")
    effect: str
    mechanism: str
    management: str
    citation: Citation


class InteractionReport(BaseModel):
    """Everything found on one medication list."""

    table_version: str
    medications: list[MedicationItem]
    unrecognised: list[str] = Field(description="Medication texts with no ingredient in the lexicon (not checked).")
    findings: list[InteractionFinding]

    @property
    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        return dict(Counter(f.severity for f in self.findings))


def _pair_findings(first: MedicationItem, second: MedicationItem, table: InteractionTable) -> Iterable[InteractionFinding]:
    for rule in table.interactions:
        side_a, side_b = table.ingredients_of(rule.a), table.ingredients_of(rule.b)
        for x, y in ((first, second), (second, first)):
            hit = next(((i, j) for i in x.ingredients for j in y.ingredients if i != j and i in side_a and j in side_b), None)
            if hit:
                yield InteractionFinding(id=rule.id, severity=rule.severity, medications=(x.label, y.label), ingredients=hit,
                                         rule=f"{rule.a.describe()} + {rule.b.describe()}", effect=rule.effect,
                                         mechanism=rule.mechanism, management=rule.management, citation=rule.citation)
                break


def check_interactions(medications: Sequence[str | MedicationItem], table: InteractionTable | None = None) -> InteractionReport:
    """Check every pair of medications on the list; findings are ordered most severe first."""
    table = table or interaction_table()
    items = [m if isinstance(m, MedicationItem) else identify_medication(m, table=table) for m in medications]
    findings: list[InteractionFinding] = []
    seen: set[tuple] = set()
    for first, second in combinations(items, 2):
        for finding in _pair_findings(first, second, table):
            key = (finding.id, frozenset(finding.ingredients))
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.id))
    return InteractionReport(table_version=table.version, medications=items,
                             unrecognised=[m.label for m in items if not m.ingredients], findings=findings)
