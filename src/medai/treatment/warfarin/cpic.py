"""CPIC (2017) interpretation of warfarin pharmacogenes: CYP2C9 phenotype, VKORC1 sensitivity, CYP4F2, rs12777823.

The rules and tables are data (``warfarin_cpic.yaml``); :func:`interpret` turns a patient's genotypes
into phenotypes, the label's expected dose range and the guideline's dose recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


from medai.treatment.knowledge import Citation, KnowledgeFile, Strict, load_knowledge
from medai.treatment.warfarin.iwpc import impute_vkorc1
from medai.treatment.warfarin.patient import WarfarinPatient


class AlleleFunction(Strict):
    function: str
    activity: float


class PhenotypeBand(Strict):
    min_score: float
    phenotype: str


class Cyp2c9Table(Strict):
    citation: Citation
    function: dict[str, AlleleFunction]
    phenotypes: list[PhenotypeBand]


class LabelRanges(Strict):
    citation: Citation
    cyp2c9_columns: list[str]
    rows: dict[str, list[tuple[float, float]]]


class Adjustment(Strict):
    adjust_percent: tuple[float, float]
    text: str
    strength: str


class NonAfrican(Strict):
    algorithm: str
    strength: str
    cyp4f2_carrier: Adjustment


class African(Strict):
    untested: str
    algorithm: str
    strength: str
    african_allele_carrier: Adjustment
    rs12777823_carrier: Adjustment
    cyp4f2_note: str


class Recommendations(Strict):
    non_african: NonAfrican
    african: African
    consider_alternative: str
    target_inr_note: str


class CpicKnowledge(KnowledgeFile):
    """Schema of ``warfarin_cpic.yaml``."""

    citation: Citation
    cyp2c9_alleles: Cyp2c9Table
    african_ancestry_alleles: list[str]
    vkorc1_sensitivity: dict[str, str]
    label_dose_ranges: LabelRanges
    recommendations: Recommendations


def knowledge() -> CpicKnowledge:
    """The shipped CPIC warfarin rules."""
    return load_knowledge("warfarin_cpic.yaml", CpicKnowledge)


@dataclass(frozen=True)
class CpicInterpretation:
    """Phenotypes and the guideline's recommendation for one patient."""

    cyp2c9_activity_score: float | None
    cyp2c9_phenotype: str | None
    vkorc1_sensitivity: str | None
    label_daily_dose_range_mg: tuple[float, float] | None
    dose_clinically: bool
    consider_alternative: bool
    adjustment_percent: tuple[float, float]
    recommendations: list[str] = field(default_factory=list)
    citation: str = ""


def cyp2c9_activity(diplotype: str | None) -> tuple[float | None, str | None]:
    """Activity score and phenotype of a CYP2C9 diplotype; (None, None) when unknown or an allele is not tabled."""
    if diplotype is None:
        return None, None
    table = knowledge().cyp2c9_alleles
    alleles = diplotype.replace("*", "").split("/")
    if any(a not in table.function for a in alleles):
        return None, None
    score = sum(table.function[a].activity for a in alleles)
    phenotype = next(b.phenotype for b in table.phenotypes if score >= b.min_score)
    return score, phenotype


def label_range(vkorc1: str | None, cyp2c9: str | None) -> tuple[float, float] | None:
    """The label's expected maintenance daily dose range (mg/day) for the genotype pair, when tabled."""
    table = knowledge().label_dose_ranges
    if vkorc1 not in table.rows or cyp2c9 not in table.cyp2c9_columns:
        return None
    return tuple(table.rows[vkorc1][table.cyp2c9_columns.index(cyp2c9)])


def interpret(patient: WarfarinPatient, african_ancestry: bool | None = None,
              african_variants_tested: bool = False) -> CpicInterpretation:
    """CPIC 2017 interpretation. African ancestry defaults to race 'black'; pass it when known otherwise.

    ``african_variants_tested`` says whether CYP2C9*5, *6, *8 and *11 were genotyped (implied when the
    diplotype carries one of them).
    """
    kb = knowledge()
    rec = kb.recommendations
    african = patient.race == "black" if african_ancestry is None else african_ancestry
    score, phenotype = cyp2c9_activity(patient.cyp2c9)
    vkorc1, _ = impute_vkorc1(patient)
    alleles = patient.cyp2c9.replace("*", "").split("/") if patient.cyp2c9 else []
    african_carrier = any(a in kb.african_ancestry_alleles for a in alleles)
    lines: list[str] = []
    low, high, dose_clinically = 0.0, 0.0, False
    if african:
        if not (african_variants_tested or african_carrier):
            dose_clinically = True
            lines.append(rec.african.untested)
        else:
            lines.append(f"{rec.african.algorithm} (strength: {rec.african.strength})")
            for applies, adj in ((african_carrier, rec.african.african_allele_carrier),
                                 (patient.rs12777823 in ("A/G", "A/A"), rec.african.rs12777823_carrier)):
                if applies:
                    low, high = low + adj.adjust_percent[0], high + adj.adjust_percent[1]
                    lines.append(f"{adj.text} (strength: {adj.strength})")
        lines.append(rec.african.cyp4f2_note)
    else:
        lines.append(f"{rec.non_african.algorithm} (strength: {rec.non_african.strength})")
        if patient.cyp4f2 in ("C/T", "T/T"):
            adj = rec.non_african.cyp4f2_carrier
            low, high = adj.adjust_percent
            lines.append(f"{adj.text} (strength: {adj.strength})")
    poor = score is not None and score <= 0.5
    alternative = poor
    if alternative:
        lines.append(rec.consider_alternative)
    lines.append(rec.target_inr_note)
    return CpicInterpretation(
        cyp2c9_activity_score=score, cyp2c9_phenotype=phenotype,
        vkorc1_sensitivity=kb.vkorc1_sensitivity.get(vkorc1 or ""),
        label_daily_dose_range_mg=label_range(vkorc1, patient.cyp2c9), dose_clinically=dose_clinically,
        consider_alternative=alternative, adjustment_percent=(low, high), recommendations=lines, citation=str(kb.citation))
