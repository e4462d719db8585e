"""Type 2 diabetes regimen (ADA Standards of Care 2025, section 9) for one patient.

The rules, targets and drug classes are data (``assets/knowledge/treatment/diabetes_regimen.yaml``);
this module computes the measures the rules read (HbA1c gap to the selected target, age,
coexisting chronic illnesses) and assembles the plan.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from medai.treatment.knowledge import load_knowledge
from medai.treatment.patient_context import Measurement, PatientContext
from medai.treatment.regimens.plan import RegimenFile, RegimenPlan, make_plan, not_applicable
from medai.treatment.regimens.rules import Derived

CONDITION = "type 2 diabetes"
GLUCOSE_LOWERING = {"metformin", "sglt2i", "glp1ra", "gip_glp1ra", "dpp4i", "tzd", "sulfonylurea", "insulin"}
CHRONIC_ILLNESSES = ("coronary_heart_disease", "cerebrovascular_disease", "heart_failure", "ckd", "copd", "hypertension")


@lru_cache(maxsize=4)
def diabetes_knowledge(path: str | None = None) -> RegimenFile:
    """The diabetes regimen file: the shipped one, or a replacement at ``path``."""
    return load_knowledge("diabetes_regimen.yaml", RegimenFile, Path(path) if path else None)


def _derived(context: PatientContext) -> Derived:
    count = sum(context.has(p) for p in CHRONIC_ILLNESSES)
    derived = {"chronic_illnesses": Measurement(name="chronic_illnesses", label="Coexisting chronic illnesses", value=count,
                                                note=", ".join(p for p in CHRONIC_ILLNESSES if context.has(p)) or None)}
    if context.age is not None:
        derived["age"] = Measurement(name="age", label="Age", value=context.age, unit="years")
    return derived


def diabetes_plan(context: PatientContext, knowledge: RegimenFile | None = None) -> RegimenPlan:
    """The type 2 diabetes regimen for the patient: target, steps, ranked drug classes with reasons."""
    knowledge = knowledge or diabetes_knowledge()
    derived = _derived(context)
    stopped = not_applicable(knowledge, CONDITION, context, derived)
    if stopped is not None:
        return stopped
    target, applied_target = knowledge.target_for(context, derived)
    goal = target.values["hba1c"]
    hba1c = context.measurements.get("hba1c")
    if hba1c is not None:
        derived["hba1c_gap"] = Measurement(name="hba1c_gap", label="HbA1c above target by", value=round(hba1c.value - goal, 2),
                                           unit="%", note=f"HbA1c {hba1c.value:g}% vs target < {goal:g}%")
    assessment = {"hba1c": hba1c.describe() if hba1c else None, "hba1c_target": f"< {goal:g}%",
                  "hba1c_above_target_by": derived["hba1c_gap"].value if "hba1c_gap" in derived else None,
                  "egfr": context.measurements["egfr"].describe() if "egfr" in context.measurements else None,
                  "bmi": context.measurements["bmi"].describe() if "bmi" in context.measurements else None,
                  "comorbidities": [p for p in ("ascvd", "heart_failure", "ckd", "obesity", "pregnancy") if context.has(p)
                                    and (p != "pregnancy" or context.pregnant)]}
    return make_plan(knowledge, CONDITION, context, derived, assessment, applied_target, GLUCOSE_LOWERING)
