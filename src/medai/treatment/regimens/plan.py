"""The schema shared by the regimen knowledge files, and the plan a regimen engine returns."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field, model_validator

from medai.treatment.interactions import interaction_table
from medai.treatment.knowledge import Citation, KnowledgeFile
from medai.treatment.patient_context import PatientContext
from medai.treatment.regimens.phenotypes import phenotype_definitions
from medai.treatment.regimens.rules import (AppliedRule, Derived, Option, OptionResult, Rule, When, apply_rule, applied_steps,
                                           rank_options, unique_citations)


class Target(BaseModel):
    """A treatment target that applies when ``when`` holds (the first matching target wins)."""

    id: str
    when: When = Field(default_factory=When)
    values: dict[str, float] = Field(min_length=1)
    text: str
    citation: Citation


class RegimenFile(KnowledgeFile):
    """Fields every guideline-regimen file has."""

    references: dict[str, Citation] = Field(default_factory=dict)
    guideline: str = Field(min_length=3)
    derived_measures: list[str] = Field(default_factory=list, description="Measures the engine computes (e.g. hba1c_gap).")
    not_applicable: list[Rule] = Field(default_factory=list, description="First match: the engine stops with its text.")
    targets: list[Target] = Field(min_length=1)
    steps: list[Rule]
    options: list[Option] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "RegimenFile":
        ids = [o.id for o in self.options] + [s.id for s in self.steps]
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        if repeated:
            raise ValueError(f"ids listed twice: {', '.join(repeated)}")
        if self.targets[-1].when != When():
            raise ValueError("the last target must have no 'when' (the default)")
        known = {c for drug in interaction_table().drugs for c in drug.classes}
        for option in self.options:
            if set(option.classes) - known:
                raise ValueError(f"option {option.id}: unknown drug class {', '.join(sorted(set(option.classes) - known))}")
        for where, when in self._whens():
            problem = _unknown_names(when, self.derived_measures)
            if problem:
                raise ValueError(f"{where}: {problem}")
        return self

    def _whens(self) -> list[tuple[str, When]]:
        found = [(f"target {t.id}", t.when) for t in self.targets]
        found += [(f"rule {r.id}", r.when) for r in self.not_applicable + self.steps]
        for option in self.options:
            found += [(f"option {option.id}", option.only_when)] if option.only_when else []
            found += [(f"option {option.id}, rule {r.id}", r.when) for r in [option.base, *option.indications, *option.restrictions]]
        return found

    def target_for(self, context: PatientContext, derived: Derived) -> tuple[Target, AppliedRule]:
        """The first target whose ``when`` holds, with the facts that selected it."""
        for target in self.targets:
            facts = target.when.evidence(context, derived)
            if facts is not None:
                return target, AppliedRule(id=target.id, text=target.text, evidence=facts, citation=target.citation)
        raise AssertionError("unreachable: the last target always holds")


def _unknown_names(when: When, derived: list[str]) -> str | None:
    """What a rule names that does not exist (phenotype, measure or drug class), or None."""
    definitions = phenotype_definitions()
    phenotypes = {p.id for p in definitions.phenotypes}
    measures = set(definitions.measures) | set(derived)
    classes = {c for drug in interaction_table().drugs for c in drug.classes}
    named = {"phenotype": (when.phenotypes_any + when.phenotypes_all + when.phenotypes_none, phenotypes),
             "measure": ([r.measure for r in when.measures + when.measures_any] + when.missing, measures),
             "drug class": (when.taking_any + when.taking_all + when.taking_none, classes)}
    for kind, (used, known) in named.items():
        unknown = sorted(set(used) - known)
        if unknown:
            return f"unknown {kind} {', '.join(unknown)}"
    return None


class RegimenPlan(BaseModel):
    """A guideline regimen for one patient: assessment, what to do now, ranked options, sources."""

    condition: str
    guideline: str
    knowledge_version: str
    patient_id: str | None = None
    applicable: bool
    message: str | None = Field(default=None, description="Why no regimen was made, when not applicable.")
    assessment: dict[str, Any] = Field(default_factory=dict)
    target: AppliedRule | None = None
    current_therapy: list[str] = Field(default_factory=list)
    steps: list[AppliedRule] = Field(default_factory=list)
    options: list[OptionResult] = Field(default_factory=list)
    combination: list[str] | None = Field(default=None, description="Suggested two-drug combination (option ids), when one is advised.")
    citations: list[Citation] = Field(default_factory=list)

    @property
    def ranked(self) -> list[OptionResult]:
        """Options that may be used, best first."""
        return [o for o in self.options if o.rank is not None]


def not_applicable(knowledge: RegimenFile, condition: str, context: PatientContext, derived: Derived) -> RegimenPlan | None:
    """A plan saying why no regimen applies (deceased, or a ``not_applicable`` rule), or None."""
    if context.deceased:
        return RegimenPlan(condition=condition, guideline=knowledge.guideline, knowledge_version=knowledge.version,
                           patient_id=context.patient_id, applicable=False, message="The patient is recorded as deceased.")
    for rule in knowledge.not_applicable:
        applied = apply_rule(rule, context, derived)
        if applied is not None:
            return RegimenPlan(condition=condition, guideline=knowledge.guideline, knowledge_version=knowledge.version,
                               patient_id=context.patient_id, applicable=False, message=rule.text, steps=[applied],
                               citations=[rule.citation])
    return None


def make_plan(knowledge: RegimenFile, condition: str, context: PatientContext, derived: Derived,
              assessment: dict[str, Any], target: AppliedRule, therapy_classes: set[str]) -> RegimenPlan:
    """Rank the options and collect the steps that hold into a ``RegimenPlan``."""
    steps = applied_steps(knowledge.steps, context, derived)
    options = rank_options(knowledge.options, context, derived)
    current = [m.label for m in context.medications if therapy_classes & set(m.classes)]
    return RegimenPlan(condition=condition, guideline=knowledge.guideline, knowledge_version=knowledge.version,
                       patient_id=context.patient_id, applicable=True, assessment=assessment, target=target,
                       current_therapy=list(dict.fromkeys(current)), steps=steps, options=options,
                       citations=unique_citations([target, *steps, *options]))
