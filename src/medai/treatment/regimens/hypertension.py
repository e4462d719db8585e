"""Hypertension regimen (2017 ACC/AHA guideline) for one patient.

The BP categories, targets, steps, drug classes and preferred two-drug combinations are data
(``assets/knowledge/treatment/hypertension_regimen.yaml``). This module classifies the mean of
the latest BP readings, computes the measures the rules read (stage, gap to target, number of
BP-lowering classes taken, optional 10-year ASCVD risk) and picks a two-drug combination when one
is advised.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from medai.treatment.knowledge import Citation, load_knowledge
from medai.treatment.patient_context import Measurement, PatientContext
from medai.treatment.regimens.plan import RegimenFile, RegimenPlan, make_plan, not_applicable
from medai.treatment.regimens.rules import AppliedRule, Derived, OptionResult

CONDITION = "hypertension"
# BP-lowering classes, grouped so that one drug or one class counts once (spironolactone is MRA and potassium-sparing;
# two calcium-channel blockers are one class).
CLASS_GROUPS = {"thiazide": "thiazide", "loop_diuretic": "loop", "potassium_sparing": "potassium_sparing", "mra": "potassium_sparing",
                "dhp_ccb": "ccb", "non_dhp_ccb": "ccb", "acei": "ras", "arb": "ras", "arni": "ras",
                "direct_renin_inhibitor": "ras", "beta_blocker": "beta_blocker", "alpha_blocker": "alpha_blocker",
                "central_alpha_agonist": "central_alpha_agonist", "direct_vasodilator": "direct_vasodilator"}


class BpCategory(BaseModel):
    """A BP category: reached when systolic >= ``sbp_min`` or diastolic >= ``dbp_min``."""

    id: str
    stage: int = Field(ge=0)
    label: str
    sbp_min: float
    dbp_min: float | None
    citation: Citation


class Combination(BaseModel):
    """A preferred two-drug combination of option ids."""

    pair: tuple[str, str]
    text: str
    citation: Citation


class HypertensionFile(RegimenFile):
    """``hypertension_regimen.yaml``: the shared regimen fields plus categories and combinations."""

    categories: list[BpCategory] = Field(min_length=1)
    combinations: list[Combination] = Field(default_factory=list)

    @model_validator(mode="after")
    def _combinations_name_options(self) -> "HypertensionFile":
        ids = {o.id for o in self.options}
        unknown = sorted({i for c in self.combinations for i in c.pair} - ids)
        if unknown:
            raise ValueError(f"combinations name unknown options: {', '.join(unknown)}")
        return self

    def categorise(self, sbp: float, dbp: float) -> BpCategory:
        """The highest category the reading reaches."""
        for category in sorted(self.categories, key=lambda c: -c.stage):
            if sbp >= category.sbp_min or (category.dbp_min is not None and dbp >= category.dbp_min):
                return category
        return min(self.categories, key=lambda c: c.stage)


@lru_cache(maxsize=4)
def hypertension_knowledge(path: str | None = None) -> HypertensionFile:
    """The hypertension regimen file: the shipped one, or a replacement at ``path``."""
    return load_knowledge("hypertension_regimen.yaml", HypertensionFile, Path(path) if path else None)


def _derived(context: PatientContext, knowledge: HypertensionFile, ascvd_risk: float | None) -> tuple[Derived, BpCategory | None]:
    groups = sorted({CLASS_GROUPS[c] for m in context.medications for c in m.classes if c in CLASS_GROUPS})
    derived: Derived = {"antihypertensive_classes": Measurement(name="antihypertensive_classes", label="BP-lowering classes taken",
                                                                value=len(groups), note=", ".join(groups) or None)}
    if context.age is not None:
        derived["age"] = Measurement(name="age", label="Age", value=context.age, unit="years")
    if ascvd_risk is not None:
        derived["ascvd_risk"] = Measurement(name="ascvd_risk", label="10-year ASCVD risk", value=ascvd_risk, unit="%", note="as supplied")
    sbp, dbp = context.measurements.get("sbp"), context.measurements.get("dbp")
    if sbp is None or dbp is None:
        return derived, None
    category = knowledge.categorise(sbp.value, dbp.value)
    derived["bp_stage"] = Measurement(name="bp_stage", label="BP category", value=category.stage,
                                      note=f"{category.label}; {sbp.value:g}/{dbp.value:g} mmHg, {sbp.note}")
    return derived, category


def _combination(knowledge: HypertensionFile, options: list[OptionResult], steps: list[AppliedRule]) -> tuple[AppliedRule, list[str]] | None:
    """A preferred pair: to start with (two-drug start advised) or to complete (one class taken, above target)."""
    usable = {o.id: o for o in options if o.rank is not None}
    taking = {o.id for o in options if o.current}
    step_ids = {s.id for s in steps}
    scored = []
    for combo in knowledge.combinations:
        a, b = combo.pair
        if a not in usable or b not in usable:
            continue
        if "two_drug_start" in step_ids and not taking:
            scored.append((usable[a].score + usable[b].score, combo, [a, b]))
        elif "intensify_on_treatment" in step_ids and len({a, b} & taking) == 1:
            other = b if a in taking else a
            scored.append((usable[other].score, combo, [a if a in taking else b, other]))
    if not scored:
        return None
    _, combo, ids = max(scored, key=lambda item: item[0])
    verb = "Start" if not taking else "Add to current therapy to make"
    rule = AppliedRule(id="combination", text=f"{verb}: {combo.text} ({' + '.join(ids)}).",
                       evidence=[f"{usable[i].label}: rank {usable[i].rank}, {usable[i].status}" for i in ids], citation=combo.citation)
    return rule, ids


def hypertension_plan(context: PatientContext, knowledge: HypertensionFile | None = None,
                      ascvd_risk: float | None = None) -> RegimenPlan:
    """The hypertension regimen: BP category, target, steps, ranked drug classes and a two-drug combination."""
    knowledge = knowledge or hypertension_knowledge()
    derived, category = _derived(context, knowledge, ascvd_risk)
    stopped = not_applicable(knowledge, CONDITION, context, derived)
    if stopped is not None:
        return stopped
    target, applied_target = knowledge.target_for(context, derived)
    sbp, dbp = context.measurements.get("sbp"), context.measurements.get("dbp")
    if sbp is not None and dbp is not None:
        for name, value, goal in (("sbp_gap", sbp.value, target.values["sbp"]), ("dbp_gap", dbp.value, target.values["dbp"])):
            derived[name] = Measurement(name=name, label=f"{name[:3].upper()} above target by", value=round(value - goal, 1),
                                        unit="mmHg", note=f"{value:g} vs target < {goal:g}")
    assessment = {"bp": f"{sbp.value:g}/{dbp.value:g} mmHg ({sbp.note})" if sbp and dbp else None,
                  "category": category.label if category else None,
                  "bp_target": f"< {target.values['sbp']:g}/{target.values['dbp']:g} mmHg",
                  "antihypertensive_classes": derived["antihypertensive_classes"].note,
                  "black": context.black, "pregnant": context.pregnant,
                  "compelling_indications": [p for p in ("hfref", "heart_failure", "coronary_heart_disease", "cerebrovascular_disease",
                                                          "ckd", "albuminuria", "diabetes") if context.has(p)]}
    plan = make_plan(knowledge, CONDITION, context, derived, assessment, applied_target, set(CLASS_GROUPS))
    combination = _combination(knowledge, plan.options, plan.steps)
    if combination is not None:
        rule, plan.combination = combination
        plan.steps.append(rule)
        if str(rule.citation) not in {str(c) for c in plan.citations}:
            plan.citations.append(rule.citation)
    return plan
