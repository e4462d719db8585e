"""The IWPC pharmacogenetic and clinical warfarin dosing algorithms (NEJM 2009), coefficients as data.

Both predict the square root of the weekly dose as a linear sum; :func:`iwpc_dose` returns the
dose with each term's contribution, so a caller can say which factors moved it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


from medai.errors import InvalidInput, Problem
from medai.treatment.knowledge import Citation, KnowledgeFile, Strict, load_knowledge
from medai.treatment.warfarin.patient import WarfarinPatient

Algorithm = Literal["pharmacogenetic", "clinical"]
IWPC_CYP2C9 = {"*1/*1": None, "*1/*2": "cyp2c9_12", "*1/*3": "cyp2c9_13", "*2/*2": "cyp2c9_22",
               "*2/*3": "cyp2c9_23", "*3/*3": "cyp2c9_33"}


class Equation(Strict):
    """Intercept and term coefficients of one sqrt-dose equation."""

    intercept: float
    terms: dict[str, float]


class ImputationRule(Strict):
    """Impute VKORC1 -1639 from one proxy SNP."""

    snp: str
    name: str
    exclude_black_or_mixed: bool
    map: dict[str, Literal["G/G", "A/G", "A/A"]]


class IwpcKnowledge(KnowledgeFile):
    """Schema of ``warfarin_iwpc.yaml``."""

    citation: Citation
    algorithms: dict[Algorithm, Equation]
    vkorc1_imputation: list[ImputationRule]
    published_performance: dict[str, object]


def knowledge() -> IwpcKnowledge:
    """The shipped IWPC coefficients."""
    return load_knowledge("warfarin_iwpc.yaml", IwpcKnowledge)


PROXY_FIELDS = {"rs2359612": "vkorc1_2255", "rs9934438": "vkorc1_1173", "rs8050894": "vkorc1_1542"}


def impute_vkorc1(patient: WarfarinPatient) -> tuple[str | None, str | None]:
    """VKORC1 -1639 genotype: measured, else imputed from a proxy SNP per IWPC; returns (genotype, how)."""
    if patient.vkorc1 is not None:
        return patient.vkorc1, "genotyped"
    black_or_mixed = patient.race in ("black", "unknown")
    for rule in knowledge().vkorc1_imputation:
        proxy = getattr(patient, PROXY_FIELDS[rule.snp])
        if proxy is None or (rule.exclude_black_or_mixed and black_or_mixed):
            continue
        if proxy in rule.map:
            return rule.map[proxy], f"imputed from {rule.name} ({rule.snp}) {proxy}"
    return None, None


@dataclass(frozen=True)
class DoseEstimate:
    """A weekly dose from a sqrt-dose equation and the contribution (sqrt scale) of each term."""

    algorithm: str
    weekly_dose_mg: float
    sqrt_dose: float
    contributions: dict[str, float]
    notes: tuple[str, ...] = ()


def indicators(patient: WarfarinPatient) -> tuple[dict[str, float], list[str]]:
    """The IWPC variables of a patient (values of every term that applies) and notes on how they were set."""
    missing = [name for name, value in (("age", patient.decade), ("height_cm", patient.height_cm),
                                        ("weight_kg", patient.weight_kg)) if value is None]
    if missing:
        raise InvalidInput([Problem(name, "required by the IWPC algorithms but not given") for name in missing])
    values: dict[str, float] = {"age_decades": float(patient.decade), "height_cm": patient.height_cm,
                                "weight_kg": patient.weight_kg}
    notes: list[str] = []
    vkorc1, how = impute_vkorc1(patient)
    if how and how != "genotyped":
        notes.append(f"VKORC1 -1639 {vkorc1} {how}")
    values[{"A/G": "vkorc1_ag", "A/A": "vkorc1_aa", None: "vkorc1_unknown"}.get(vkorc1, "vkorc1_gg")] = 1.0
    if patient.cyp2c9 is None or patient.cyp2c9 not in IWPC_CYP2C9:
        values["cyp2c9_unknown"] = 1.0
        if patient.cyp2c9 is not None:
            notes.append(f"CYP2C9 {patient.cyp2c9} has no IWPC term; treated as genotype unknown")
    elif IWPC_CYP2C9[patient.cyp2c9]:
        values[IWPC_CYP2C9[patient.cyp2c9]] = 1.0
    race = {"asian": "race_asian", "black": "race_black", "unknown": "race_missing_or_mixed"}.get(patient.race)
    if race:
        values[race] = 1.0
    if patient.enzyme_inducer:
        values["enzyme_inducer"] = 1.0
    if patient.amiodarone:
        values["amiodarone"] = 1.0
    return values, notes


def iwpc_dose(patient: WarfarinPatient, algorithm: Algorithm = "pharmacogenetic") -> DoseEstimate:
    """The IWPC weekly dose (mg/week) for ``patient`` with the per-term contributions on the sqrt scale."""
    equation = knowledge().algorithms[algorithm]
    values, notes = indicators(patient)
    contributions = {name: coef * values[name] for name, coef in equation.terms.items() if values.get(name)}
    sqrt_dose = equation.intercept + sum(contributions.values())
    return DoseEstimate(algorithm=f"IWPC {algorithm}", weekly_dose_mg=max(sqrt_dose, 0.0) ** 2, sqrt_dose=sqrt_dose,
                        contributions=contributions, notes=tuple(notes))
