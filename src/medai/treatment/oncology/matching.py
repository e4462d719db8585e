"""Which CIViC evidence items are about a patient's variant, and how closely.

Variant match levels, closest first:

- ``exact``: same gene and variant name (protein change, exon event, amplification, fusion
  partners), the same HGVS ``c.`` expression (v1 VariantSummaries) or the same genomic change
  (v1 coordinates);
- ``codon``: CIViC evidence on the codon or a codon group that contains it (``V600``,
  ``V600E/K``, ``G12/G13``), or a named fusion under a gene-level fusion query;
- ``region``: evidence on a region (e.g. ``EXON 2 MUTATION``) whose coordinates contain the
  variant's position (v1 exports, where CIViC gives coordinates; the variant's position comes
  from its VCF/MAF row or from CIViC's own record of the same variant);
- ``gene``: gene-level evidence (``MUTATION``, any fusion of the gene).

A molecular profile with several variants (v2 ``A AND B``) matches only when every non-negated
variant matches one of the patient's variants; ``OR`` needs one.
"""

from __future__ import annotations

import re
from typing import Literal

from medai.datasets.civic import CivicExport, Coordinates, EvidenceItem, ProfileVariant
from medai.treatment.oncology.variants import Position, VariantQuery, protein_change

VariantMatch = Literal["exact", "codon", "region", "gene"]
VARIANT_MATCH_ORDER: dict[str, int] = {"exact": 0, "codon": 1, "region": 2, "gene": 3}
GENE_LEVEL = {"MUTATION", "MUTATIONS", "MUTANT", "ACTIVATING MUTATION", "ONCOGENIC MUTATION"}
_REGION = re.compile(r"^(EXON \d+(-\d+)? (MUTATION|MUTATIONS|VARIANT|VARIANTS|MISSENSE MUTATION)|KINASE DOMAIN MUTATION)$")


def _norm(name: str) -> str:
    text = re.sub(r"\s+", " ", name.upper().replace("::", "-")).strip()
    return re.sub(r"^P\.", "", text)


def _partners(component: ProfileVariant) -> set[str]:
    """Fusion partners named by a CIViC variant ('EML4-ALK', v2 gene 'EML4::ALK'), empty if not a named fusion."""
    for text in (component.variant, component.gene):
        core = re.sub(r"\s+FUSIONS?$", "", _norm(text))
        parts = core.split("-")
        if len(parts) == 2 and all(re.fullmatch(r"[A-Z][A-Z0-9]+", p) for p in parts) and not protein_change(parts[1]):
            return set(parts)
    return set()


def _same_partners(ours: list[str], theirs: set[str]) -> bool:
    return len(ours) == len(theirs) and all(any(a == b or a.startswith(b) or b.startswith(a) for b in theirs) for a in ours)


def _codon_match(query: VariantQuery, variant: str) -> bool:
    """CIViC names the query's codon (``V600``) or a group that contains the query (``V600E/K``, ``G12/G13``)."""
    tokens = variant.split("/")
    first = protein_change(tokens[0])
    if query.position is None or first is None:
        return False
    for token in tokens:
        parsed = protein_change(token)
        if parsed is None and re.fullmatch(r"[A-Z*]", token):
            parsed = (first[0], first[1], token)
        if parsed and parsed[1] == query.position and parsed[0] == query.reference_aa:
            if parsed[2] is None or (len(tokens) > 1 and "".join(map(str, parsed)) == query.name):
                return True
    return False


def _within(coordinates: Coordinates | None, query: VariantQuery) -> bool:
    position = query.genomic
    return bool(coordinates and position and coordinates.chromosome == position.chromosome
                and coordinates.start <= position.position <= coordinates.stop)


def component_match(component: ProfileVariant, item: EvidenceItem, query: VariantQuery, hgvs: dict[tuple[str, str], set[str]]) -> VariantMatch | None:
    """How one CIViC variant relates to one patient variant (None when unrelated)."""
    variant = _norm(component.variant)
    partners = _partners(component)
    if query.kind == "fusion":
        if partners:
            return "exact" if len(query.partners) == 2 and _same_partners(query.partners, partners) else \
                "codon" if len(query.partners) == 1 and query.partners[0] in partners else None
        if component.gene in query.partners and variant in ("FUSION", "FUSIONS", "REARRANGEMENT"):
            return "gene" if len(query.partners) == 2 else "exact"
        return None
    if query.gene != component.gene or partners:
        return None
    if variant == _norm(query.name):
        return "exact"
    if query.hgvs_c and query.hgvs_c in hgvs.get((component.gene, component.variant), set()):
        return "exact"
    if query.genomic and item.coordinates and item.coordinates.start == item.coordinates.stop == query.genomic.position \
            and item.coordinates.variant_bases == query.genomic.alternate:
        return "exact"
    if query.kind in ("protein", "coding", "genomic", "region"):
        if _codon_match(query, variant):
            return "codon"
        if _REGION.match(variant) and _within(item.coordinates, query):
            return "region"
        if variant in GENE_LEVEL:
            return "gene"
    return None


def hgvs_index(export: CivicExport) -> dict[tuple[str, str], set[str]]:
    """(gene, variant) -> the bare HGVS expressions ('c.1799T>A', 'p.Val600Glu') CIViC lists for it."""
    return {(v.gene, v.variant): {h.split(":")[-1] for h in v.hgvs} for v in export.variants}


def locate_query(query: VariantQuery, export: CivicExport, hgvs: dict[tuple[str, str], set[str]]) -> VariantQuery:
    """The query with a genomic position and protein name filled in from CIViC's own record of the variant, when known."""
    update: dict = {}
    if query.kind == "coding" and query.hgvs_c:
        found = next((key for key, names in hgvs.items() if key[0] == query.gene and query.hgvs_c in names), None)
        parsed = protein_change(found[1]) if found else None
        if parsed:
            update |= {"name": found[1], "kind": "protein", "position": parsed[1], "reference_aa": parsed[0]}
    if query.genomic is None:
        name = _norm(update.get("name", query.name))
        twin = next((i for i in export.evidence if i.coordinates and i.coordinates.start == i.coordinates.stop
                     and i.variants[0].gene == query.gene and _norm(i.variants[0].variant) == name), None)
        if twin is not None:
            coordinates = twin.coordinates
            update["genomic"] = Position(chromosome=coordinates.chromosome, position=coordinates.start,
                                         reference=coordinates.reference_bases or "", alternate=coordinates.variant_bases or "",
                                         build=coordinates.build)
    return query.model_copy(update=update) if update else query


def match_item(item: EvidenceItem, queries: list[VariantQuery], hgvs: dict[tuple[str, str], set[str]]) -> tuple[VariantMatch, list[VariantQuery]] | None:
    """The best (loosest-needed) match of a profile against the patient's variants, and which variants matched."""
    levels, matched = [], []
    for component in (c for c in item.variants if not c.negated):
        found = [(level, q) for q in queries if (level := component_match(component, item, q, hgvs))]
        if not found:
            if item.combinator == "OR":
                continue
            return None
        level, query = min(found, key=lambda pair: VARIANT_MATCH_ORDER[pair[0]])
        levels.append(level)
        matched.append(query)
    if not levels:
        return None
    worst = max(levels, key=lambda level: VARIANT_MATCH_ORDER[level])
    return (min(levels, key=lambda level: VARIANT_MATCH_ORDER[level]) if item.combinator == "OR" else worst), matched
