"""Rank therapies for a patient's variants and tumour type from CIViC predictive evidence.

Only accepted ``Predictive`` items with a therapy and a drug-response significance count.
Each item's effect comes from its significance and direction: *Supports* + Sensitivity/Response
is evidence of benefit; *Supports* + Resistance or Reduced Sensitivity is evidence of
resistance; *Does Not Support* counts against that effect. Therapies (the same set of drugs)
are ranked by their best supporting evidence level (A > B > C > D > E), then by how closely the
disease and the variant match, then by the number of supporting items and their rating.
Evidence on unrelated tumour types is kept apart (``other_tumour_types``, levels A-B only).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from pydantic import BaseModel, Field

from medai.datasets.civic import CivicExport, EvidenceItem
from medai.errors import InvalidInput, Problem
from medai.treatment.oncology.diseases import DISEASE_MATCH_ORDER, TumourScope, resolve_tumour
from medai.treatment.oncology.matching import VARIANT_MATCH_ORDER, hgvs_index, locate_query, match_item
from medai.treatment.oncology.variants import VariantQuery

CIVIC_CITATION = ("Griffith M et al. CIViC is a community knowledgebase for expert crowdsourcing the clinical interpretation "
                  "of variants in cancer. Nat Genet 2017;49(2):170-174")
LEVEL_MEANING = {"A": "validated association", "B": "clinical evidence", "C": "case study", "D": "preclinical evidence",
                 "E": "inferential association"}
Effect = Literal["sensitivity", "resistance", "adverse response"]
_EFFECTS = {"Sensitivity/Response": "sensitivity", "Resistance": "resistance", "Reduced Sensitivity": "resistance",
            "Adverse Response": "adverse response"}
OTHER_TUMOUR_LEVELS = ("A", "B")


class EvidenceRef(BaseModel):
    """One CIViC evidence item behind a therapy, as shown to a clinician."""

    evidence_id: int
    level: str
    significance: str | None
    direction: str | None
    supports: bool
    molecular_profile: str
    disease: str
    doid: str | None
    disease_match: str
    variant_match: str
    therapies: list[str]
    pmid: str | None
    rating: int | None
    statement: str
    url: str | None


class TherapyFinding(BaseModel):
    """A therapy (one drug or a set of drugs) with its evidence for one effect."""

    therapy: str
    drugs: list[str]
    effect: Effect
    best_level: str
    level_meaning: str
    supporting: int = Field(description="Items supporting the effect.")
    contrary: int = Field(description="Items that do not support the effect.")
    disease_match: str
    variant_match: str
    variants: list[str]
    pmids: list[str]
    flags: list[str] = Field(default_factory=list)
    evidence: list[EvidenceRef] = Field(default_factory=list)


class VariantFinding(BaseModel):
    """What was found for one of the patient's variants."""

    variant: str
    gene: str | None
    source: str | None = None
    profiles: list[str] = Field(default_factory=list, description="CIViC molecular profiles that matched (any tumour).")
    items_in_tumour: int = 0
    items_any_tumour: int = 0
    message: str | None = None


class OncologyReport(BaseModel):
    """Therapies for a patient's variants and tumour, ranked, with the evidence behind each."""

    tumour: str
    tumour_label: str
    tumour_doid: str | None
    disease_matching: str
    knowledge: str
    variants: list[VariantFinding]
    sensitivity: list[TherapyFinding]
    resistance: list[TherapyFinding]
    adverse: list[TherapyFinding] = Field(default_factory=list)
    other_tumour_types: list[TherapyFinding] = Field(default_factory=list)
    messages: list[str] = Field(default_factory=list)
    citation: str = CIVIC_CITATION


def _therapy_label(item: EvidenceItem) -> str:
    joiner = {"Combination": " + ", "Substitutes": " or ", "Sequential": " then "}.get(item.therapy_interaction or "", ", ")
    return joiner.join(item.therapies)


def _ref(item: EvidenceItem, disease_match: str, variant_match: str) -> EvidenceRef:
    return EvidenceRef(evidence_id=item.evidence_id, level=item.evidence_level, significance=item.significance,
                       direction=item.evidence_direction, supports=item.evidence_direction != "Does Not Support",
                       molecular_profile=item.molecular_profile, disease=item.disease, doid=item.doid, disease_match=disease_match,
                       variant_match=variant_match, therapies=item.therapies, pmid=item.pmid, rating=item.rating,
                       statement=item.statement[:400], url=item.url)


def _sort_key(finding: TherapyFinding) -> tuple:
    ratings = [e.rating or 0 for e in finding.evidence if e.supports]
    return (finding.best_level, DISEASE_MATCH_ORDER.get(finding.disease_match, 3), VARIANT_MATCH_ORDER[finding.variant_match],
            -finding.supporting, -max(ratings, default=0), finding.therapy)


def _findings(grouped: dict[tuple, list[tuple[EvidenceItem, str, str, list[str]]]]) -> list[TherapyFinding]:
    findings = []
    for (drugs, effect), entries in grouped.items():
        supporting = [e for e in entries if e[0].evidence_direction != "Does Not Support"]
        if not supporting:
            continue
        best = min(supporting, key=lambda e: (e[0].evidence_level, DISEASE_MATCH_ORDER.get(e[1], 3), VARIANT_MATCH_ORDER[e[2]]))
        refs = sorted((_ref(item, dm, vm) for item, dm, vm, _ in entries), key=lambda r: (not r.supports, r.level, -(r.rating or 0)))
        findings.append(TherapyFinding(
            therapy=_therapy_label(best[0]), drugs=sorted(drugs), effect=effect, best_level=best[0].evidence_level,
            level_meaning=LEVEL_MEANING[best[0].evidence_level], supporting=len(supporting), contrary=len(entries) - len(supporting),
            disease_match=best[1], variant_match=best[2], variants=sorted({v for e in entries for v in e[3]}),
            pmids=list(dict.fromkeys(r.pmid for r in refs if r.pmid)), evidence=refs))
    return sorted(findings, key=_sort_key)


def _flag_conflicts(sensitivity: list[TherapyFinding], resistance: list[TherapyFinding]) -> None:
    by_drugs = {tuple(f.drugs): f for f in resistance}
    for finding in sensitivity:
        other = by_drugs.get(tuple(finding.drugs))
        if other is not None:
            finding.flags.append(f"conflicting evidence: resistance also reported (best level {other.best_level}; {', '.join(other.variants)})")
            other.flags.append(f"conflicting evidence: sensitivity also reported (best level {finding.best_level}; {', '.join(finding.variants)})")
    for finding in sensitivity + resistance:
        if finding.contrary:
            finding.flags.append(f"{finding.contrary} item(s) do not support this {finding.effect}")
        if finding.disease_match == "broader":
            finding.flags.append("best evidence is on a broader tumour type")
        if finding.variant_match != "exact":
            finding.flags.append(f"best evidence is {finding.variant_match}-level, not this exact variant")


def _variant_message(query: VariantQuery, profiles: set[str], in_tumour: int, export: CivicExport) -> str | None:
    if in_tumour:
        return None
    if profiles:
        return f"{query.label}: CIViC has evidence only in other tumour types (profiles: {', '.join(sorted(profiles))})."
    if query.gene and not any(v.gene == query.gene for item in export.evidence for v in item.variants):
        return f"{query.label}: gene {query.gene} has no evidence in this CIViC export."
    return f"{query.label}: no CIViC evidence for this variant (nor for its codon, region or gene-level mutation)."


def oncology_report(queries: list[VariantQuery], tumour: str, export: CivicExport) -> OncologyReport:
    """Rank therapies for the patient's variants in the given tumour type from a CIViC export."""
    if not queries:
        raise InvalidInput(Problem("variants", "give at least one variant (e.g. --variant 'BRAF V600E') or a VCF/MAF file", "required"))
    scope: TumourScope = resolve_tumour(tumour)
    hgvs = hgvs_index(export)
    located = [locate_query(q, export, hgvs) for q in queries]
    in_tumour: dict[tuple, list] = defaultdict(list)
    elsewhere: dict[tuple, list] = defaultdict(list)
    profiles: dict[int, set[str]] = defaultdict(set)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for item in export.evidence:
        result = match_item(item, located, hgvs)
        if result is None:
            continue
        variant_match, matched = result
        disease_match = scope.match(item)
        for query in matched:
            index = located.index(query)
            profiles[index].add(item.molecular_profile)
            counts[index][0 if disease_match else 1] += 1
        effect = _EFFECTS.get(item.significance or "")
        if item.evidence_type != "Predictive" or not item.therapies or effect is None:
            continue
        key = (frozenset(d.lower() for d in item.therapies), effect)
        entry = (item, disease_match or "other", variant_match, [q.label for q in matched])
        (in_tumour if disease_match else elsewhere)[key].append(entry)
    findings = _findings(in_tumour)
    sensitivity = [f for f in findings if f.effect == "sensitivity"]
    resistance = [f for f in findings if f.effect == "resistance"]
    _flag_conflicts(sensitivity, resistance)
    other = [f for f in _findings(elsewhere) if f.effect == "sensitivity" and f.best_level in OTHER_TUMOUR_LEVELS]
    variants = [VariantFinding(variant=q.label, gene=q.gene, source=q.source, profiles=sorted(profiles[i]), items_in_tumour=counts[i][0],
                               items_any_tumour=sum(counts[i]), message=_variant_message(q, profiles[i], counts[i][0], export))
                for i, q in enumerate(located)]
    messages = [v.message for v in variants if v.message]
    if scope.method == "name fallback":
        messages.append(f"Tumour {tumour!r} is not in the curated tumour types: matched CIViC disease names containing it.")
    if not sensitivity and not resistance:
        messages.append("No predictive therapy evidence for these variants in this tumour type.")
    return OncologyReport(tumour=tumour, tumour_label=scope.label, tumour_doid=scope.doid, disease_matching=scope.method,
                          knowledge=f"CIViC {export.layout} export ({export.source}, {len(export.evidence)} accepted items)",
                          variants=variants, sensitivity=sensitivity, resistance=resistance,
                          adverse=[f for f in findings if f.effect == "adverse response"], other_tumour_types=other[:10],
                          messages=messages)
