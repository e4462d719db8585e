"""The rule language of the guideline-regimen knowledge files, and how options are ranked.

A ``When`` is a conjunction of criteria on a ``PatientContext`` (phenotypes, measures, current
drug classes, pregnancy, race, age). Drug-class ``Option``s carry a base score with its reason,
``indications`` that add to the score when they hold, and ``restrictions`` (contraindicated,
avoid, caution). Every reason carries its citation; every result carries the patient facts that
made its rule hold, so a clinician sees why an option ranks where it does.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medai.treatment.knowledge import Citation
from medai.treatment.patient_context import Measurement, PatientContext
from medai.treatment.regimens.phenotypes import ObservationRule

RestrictionLevel = Literal["contraindicated", "avoid", "caution"]
Status = Literal["recommended", "continue", "option", "avoid", "contraindicated"]
_STATUS_ORDER = {"recommended": 0, "continue": 1, "option": 2, "avoid": 3, "contraindicated": 4}
RECOMMEND_SCORE = 30.0  # indications adding at least this much make an option "recommended" (compelling)
Derived = dict[str, Measurement]


class When(BaseModel):
    """Criteria that must all hold (an empty ``When`` always holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phenotypes_any: list[str] = Field(default_factory=list)
    phenotypes_all: list[str] = Field(default_factory=list)
    phenotypes_none: list[str] = Field(default_factory=list)
    measures: list[ObservationRule] = Field(default_factory=list, description="All must hold.")
    measures_any: list[ObservationRule] = Field(default_factory=list, description="At least one must hold.")
    missing: list[str] = Field(default_factory=list, description="Measures that must be unknown.")
    taking_any: list[str] = Field(default_factory=list, description="Drug classes (interaction lexicon).")
    taking_all: list[str] = Field(default_factory=list, description="Every class must be taken.")
    taking_none: list[str] = Field(default_factory=list)
    pregnant: bool | None = None
    black: bool | None = None

    def evidence(self, context: PatientContext, derived: Derived) -> list[str] | None:
        """The facts that make this hold, or None when it does not hold."""
        facts: list[str] = []
        if self.pregnant is not None:
            if context.pregnant != self.pregnant:
                return None
            facts += context.phenotypes.get("pregnancy", ["pregnancy status recorded"]) if self.pregnant else []
        if self.black is not None:
            if context.black != self.black:
                return None
            facts += ["race: Black or African American (US Core race)"] if self.black else []
        if self.phenotypes_all and not all(context.has(p) for p in self.phenotypes_all):
            return None
        if self.phenotypes_any and not any(context.has(p) for p in self.phenotypes_any):
            return None
        if any(context.has(p) for p in self.phenotypes_none):
            return None
        for phenotype in dict.fromkeys(self.phenotypes_all + [p for p in self.phenotypes_any if context.has(p)]):
            facts += context.phenotypes[phenotype][:2]
        for rule in self.measures:
            line = _measure_fact(rule, context, derived)
            if line is None:
                return None
            facts.append(line)
        if self.measures_any:
            lines = [line for rule in self.measures_any if (line := _measure_fact(rule, context, derived))]
            if not lines:
                return None
            facts += lines
        if any(_value(name, context, derived) is not None for name in self.missing):
            return None
        facts += [f"no {name} on record" for name in self.missing]
        taking = [m.label for cls in self.taking_any for m in context.taking(cls)]
        if self.taking_any and not taking:
            return None
        if not all(context.taking(cls) for cls in self.taking_all):
            return None
        taking = [m.label for cls in self.taking_all for m in context.taking(cls)] + taking
        if any(context.taking(cls) for cls in self.taking_none):
            return None
        facts += [f"taking {label}" for label in dict.fromkeys(taking)]
        return facts


def _measurement(name: str, context: PatientContext, derived: Derived) -> Measurement | None:
    return derived.get(name) or context.measurements.get(name)


def _value(name: str, context: PatientContext, derived: Derived) -> float | None:
    measurement = _measurement(name, context, derived)
    return measurement.value if measurement else None


def _measure_fact(rule: ObservationRule, context: PatientContext, derived: Derived) -> str | None:
    measurement = _measurement(rule.measure, context, derived)
    if measurement is None or not rule.holds(measurement.value):
        return None
    when = f", {measurement.effective.date().isoformat()}" if measurement.effective else ""
    note = f"; {measurement.note}" if measurement.note else ""
    unit = f" {measurement.unit}" if measurement.unit else ""
    return f"{measurement.label} {measurement.value:g}{unit} {rule.op} {rule.value:g} ({measurement.source or 'derived'}{when}{note})"


class Rule(BaseModel):
    """A statement that applies when its ``when`` holds, with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    when: When = Field(default_factory=When)
    text: str = Field(min_length=3)
    citation: Citation


class Indication(Rule):
    """A reason that favours an option; adds ``score`` to its rank."""

    score: float


class Restriction(Rule):
    """A reason against an option."""

    level: RestrictionLevel


class Option(BaseModel):
    """A drug class the guideline offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    classes: list[str] = Field(min_length=1, description="Lexicon classes that mean the patient already takes it.")
    agents: list[str] = Field(min_length=1, description="Preferred agents, e.g. those with proven outcome benefit.")
    only_when: When | None = Field(default=None, description="The option is offered only when this holds.")
    base_score: float
    base: Rule
    indications: list[Indication] = Field(default_factory=list)
    restrictions: list[Restriction] = Field(default_factory=list)


class AppliedRule(BaseModel):
    """A rule that held for this patient: its text, the facts behind it, and the source."""

    id: str
    text: str
    evidence: list[str] = Field(default_factory=list)
    citation: Citation
    level: RestrictionLevel | None = None
    score: float | None = None


class OptionResult(BaseModel):
    """An option as ranked for one patient."""

    id: str
    label: str
    agents: list[str]
    status: Status
    rank: int | None = None
    score: float
    current: list[str] = Field(default_factory=list, description="Medications the patient already takes in this class.")
    reasons: list[AppliedRule] = Field(default_factory=list)
    restrictions: list[AppliedRule] = Field(default_factory=list)


def apply_rule(rule: Rule, context: PatientContext, derived: Derived) -> AppliedRule | None:
    """The rule as applied to the patient, or None when it does not hold."""
    facts = rule.when.evidence(context, derived)
    if facts is None:
        return None
    return AppliedRule(id=rule.id, text=rule.text, evidence=facts, citation=rule.citation,
                       level=getattr(rule, "level", None), score=getattr(rule, "score", None))


def evaluate_option(option: Option, context: PatientContext, derived: Derived) -> OptionResult | None:
    """Score one option for the patient (None when it is not offered to this patient)."""
    if option.only_when is not None and option.only_when.evidence(context, derived) is None:
        return None
    base = apply_rule(option.base, context, derived)
    reasons = [a for rule in option.indications if (a := apply_rule(rule, context, derived))]
    restrictions = [a for rule in option.restrictions if (a := apply_rule(rule, context, derived))]
    current = [m.label for cls in option.classes for m in context.taking(cls)]
    levels = {r.level for r in restrictions}
    status: Status = ("contraindicated" if "contraindicated" in levels else "avoid" if "avoid" in levels
                      else "continue" if current else "recommended" if sum(r.score or 0 for r in reasons) >= RECOMMEND_SCORE
                      else "option")
    score = option.base_score + sum(r.score or 0 for r in reasons)
    return OptionResult(id=option.id, label=option.label, agents=option.agents, status=status, score=score,
                        current=list(dict.fromkeys(current)), reasons=([base] if base else []) + reasons, restrictions=restrictions)


def rank_options(options: list[Option], context: PatientContext, derived: Derived) -> list[OptionResult]:
    """Options ordered for the patient: usable ones by score (ranked 1..n), then avoid, then contraindicated."""
    results = [res for option in options if (res := evaluate_option(option, context, derived))]
    usable = sorted((r for r in results if r.status not in ("avoid", "contraindicated")), key=lambda r: -r.score)
    for rank, result in enumerate(usable, start=1):
        result.rank = rank
    if usable and not any(r.status == "recommended" for r in usable):
        first_new = next((r for r in usable if r.status == "option"), None)
        if first_new is not None:
            first_new.status = "recommended"
    rest = sorted((r for r in results if r.status in ("avoid", "contraindicated")), key=lambda r: (_STATUS_ORDER[r.status], -r.score))
    return usable + rest


def applied_steps(rules: list[Rule], context: PatientContext, derived: Derived) -> list[AppliedRule]:
    """Every rule (guideline step) that holds for the patient, in file order."""
    return [a for rule in rules if (a := apply_rule(rule, context, derived))]


def unique_citations(items: list[AppliedRule | OptionResult]) -> list[Citation]:
    """The distinct citations behind a set of applied rules and option results."""
    seen: dict[str, Citation] = {}
    for item in items:
        rules = [item] if isinstance(item, AppliedRule) else item.reasons + item.restrictions
        for rule in rules:
            seen.setdefault(str(rule.citation), rule.citation)
    return list(seen.values())
