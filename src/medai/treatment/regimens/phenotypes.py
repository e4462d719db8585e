"""Phenotypes the regimen engines reason with (type 2 diabetes, ASCVD, heart failure, CKD, pregnancy, ...).

Defined as data in ``assets/knowledge/treatment/patient_phenotypes.yaml``: SNOMED CT codes, ICD-10
prefixes and keywords of Conditions, thresholds on measures (eGFR < 60, BMI >= 30, ...), and other
phenotypes they include. ``evaluate_phenotypes`` returns, for each phenotype a patient has, the
facts (Condition ids, measured values) that establish it. The same file lists the LOINC codes of
each measure read from Observations.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from medai.core.codes import ICD10CM, SNOMED
from medai.treatment.knowledge import Citation, KnowledgeFile, load_knowledge

if TYPE_CHECKING:
    from medai.treatment.patient_context import ConditionFact, PatientContext

ICD10 = "http://hl7.org/fhir/sid/icd-10"


class Measure(BaseModel):
    """A measure read from Observations: its LOINC codes and unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str
    unit: str
    loinc: list[str] = Field(min_length=1)
    citation: Citation


class ObservationRule(BaseModel):
    """A threshold on a measure that defines a phenotype (e.g. eGFR < 60)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    measure: str
    op: Literal["<", "<=", ">", ">=", "=="]
    value: float

    def holds(self, value: float) -> bool:
        """Whether ``value`` passes the threshold."""
        return {"<": value < self.value, "<=": value <= self.value, ">": value > self.value, ">=": value >= self.value,
                "==": value == self.value}[self.op]


class Phenotype(BaseModel):
    """A clinical state defined by codes, keywords, lab thresholds or other phenotypes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    history: bool = Field(description="True when a resolved Condition still counts (e.g. past MI).")
    max_days: int | None = Field(default=None, gt=0, description="An active Condition counts only if its onset is this recent.")
    snomed: list[str] = Field(default_factory=list)
    icd10: list[str] = Field(default_factory=list, description="ICD-10(-CM) code prefixes.")
    keywords: list[str] = Field(default_factory=list)
    exclude_keywords: list[str] = Field(default_factory=list)
    observations: list[ObservationRule] = Field(default_factory=list)
    includes: list[str] = Field(default_factory=list)
    citation: Citation


class PhenotypeFile(KnowledgeFile):
    """``patient_phenotypes.yaml``."""

    references: dict[str, Citation] = Field(default_factory=dict)
    measures: dict[str, Measure]
    phenotypes: list[Phenotype]

    def model_post_init(self, _context) -> None:
        ids = {p.id for p in self.phenotypes}
        for phenotype in self.phenotypes:
            unknown = [i for i in phenotype.includes if i not in ids] + [o.measure for o in phenotype.observations if o.measure not in self.measures]
            if unknown:
                raise ValueError(f"phenotype {phenotype.id}: unknown phenotype or measure {', '.join(unknown)}")


@lru_cache(maxsize=1)
def phenotype_definitions() -> PhenotypeFile:
    """The shipped phenotype definitions."""
    return load_knowledge("patient_phenotypes.yaml", PhenotypeFile)


def _condition_matches(phenotype: Phenotype, fact: ConditionFact, as_of: datetime) -> bool:
    if not (fact.active or phenotype.history):
        return False
    if phenotype.max_days and fact.onset and (as_of - fact.onset).days > phenotype.max_days:
        return False
    for coding in fact.codings:
        if coding.system == SNOMED and coding.code in phenotype.snomed:
            return True
        if coding.system in (ICD10CM, ICD10) and coding.code and any(coding.code.upper().startswith(p) for p in phenotype.icd10):
            return True
    text = " ".join([fact.label, *(c.display or "" for c in fact.codings)]).lower()
    return any(k in text for k in phenotype.keywords) and not any(k in text for k in phenotype.exclude_keywords)


def _direct_evidence(phenotype: Phenotype, context: PatientContext) -> list[str]:
    evidence = [f"{fact.source or 'Condition'}: {fact.label}" for fact in context.conditions if _condition_matches(phenotype, fact, context.as_of)]
    for rule in phenotype.observations:
        measurement = context.measurements.get(rule.measure)
        if measurement and rule.holds(measurement.value):
            evidence.append(f"{measurement.describe()} {rule.op} {rule.value:g}")
    return evidence


def evaluate_phenotypes(context: PatientContext, definitions: PhenotypeFile | None = None) -> dict[str, list[str]]:
    """Phenotype id -> evidence, for every phenotype the patient has (``includes`` resolved)."""
    definitions = definitions or phenotype_definitions()
    by_id = {p.id: p for p in definitions.phenotypes}
    direct = {p.id: _direct_evidence(p, context) for p in definitions.phenotypes}

    def resolve(pid: str, seen: frozenset[str]) -> list[str]:
        found = list(direct[pid])
        for child in by_id[pid].includes:
            if child not in seen:
                found += [line for line in resolve(child, seen | {child}) if line not in found]
        return found

    return {pid: lines for pid in by_id if (lines := resolve(pid, frozenset({pid})))}
