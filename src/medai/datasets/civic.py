"""CIViC (Clinical Interpretation of Variants in Cancer) clinical-evidence exports.

Two layouts are read into the same ``EvidenceItem``:

- **v1** (nightly exports up to 2021, e.g. the May-2018 copy in the shared data): one row per
  evidence item with ``gene``, ``variant``, ``drugs``, ``clinical_significance``, ``pubmed_id`` and
  GRCh37 coordinates of the variant.
- **v2** (current ``nightly-ClinicalEvidenceSummaries.tsv``): ``molecular_profile`` (one or more
  variants joined by AND/OR/NOT), ``therapies`` with ``therapy_interaction_type``,
  ``significance``, ``citation_id`` + ``source_type``; no coordinates.

The layout is detected from the header. Files are tab-separated without quoting. A file that is
neither layout, or a row that does not parse, raises ``InvalidInput`` naming the file, row and
field. ``VariantSummaries.tsv`` (v1) adds HGVS expressions used to match ``c.`` notations.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from medai.datasets.registry import locate
from medai.errors import InvalidInput, Problem

EVIDENCE_FILE = "nightly-ClinicalEvidenceSummaries.tsv"
VARIANT_FILE = "nightly-VariantSummaries.tsv"
V1_COLUMNS = ("gene", "variant", "disease", "doid", "drugs", "evidence_type", "evidence_direction", "evidence_level",
              "clinical_significance", "evidence_statement", "pubmed_id", "evidence_id")
V2_COLUMNS = ("molecular_profile", "disease", "doid", "therapies", "evidence_type", "evidence_direction", "evidence_level",
              "significance", "evidence_statement", "citation_id", "evidence_id")
LEVELS = ("A", "B", "C", "D", "E")
SIGNIFICANCE = {"sensitivity": "Sensitivity/Response", "sensitivityresponse": "Sensitivity/Response",
                "resistance": "Resistance", "resistanceornonresponse": "Resistance", "reducedsensitivity": "Reduced Sensitivity",
                "adverseresponse": "Adverse Response"}
_COMBINATOR = re.compile(r"\s+(AND|OR)\s+")


class ProfileVariant(BaseModel):
    """One variant of a molecular profile: the gene (or fusion partners) and the variant name."""

    gene: str
    variant: str
    negated: bool = False


class Coordinates(BaseModel):
    """Where a v1 variant lies (CIViC reports GRCh37 in the 2018 export)."""

    chromosome: str
    start: int
    stop: int
    reference_bases: str | None = None
    variant_bases: str | None = None
    build: str | None = None


class EvidenceItem(BaseModel):
    """One accepted CIViC evidence item, whichever export layout it came from."""

    evidence_id: int
    molecular_profile: str
    variants: list[ProfileVariant] = Field(min_length=1)
    combinator: Literal["AND", "OR"] | None = None
    disease: str
    doid: str | None = Field(default=None, description="Disease Ontology id, digits only (e.g. '1909').")
    therapies: list[str] = Field(default_factory=list)
    therapy_interaction: str | None = Field(default=None, description="Combination, Substitutes or Sequential (v2 only).")
    evidence_type: str
    evidence_direction: str | None = None
    evidence_level: Literal["A", "B", "C", "D", "E"]
    significance: str | None = None
    statement: str = ""
    pmid: str | None = None
    citation: str | None = None
    rating: int | None = None
    status: str = "accepted"
    variant_origin: str | None = None
    url: str | None = None
    coordinates: Coordinates | None = None
    layout: Literal["v1", "v2"]


class VariantSummary(BaseModel):
    """A v1 variant with its HGVS expressions (used to match c. and p. notations)."""

    gene: str
    variant: str
    hgvs: list[str] = Field(default_factory=list)


@dataclass
class CivicExport:
    """A loaded export: evidence items, variant HGVS expressions, and where they came from."""

    evidence: list[EvidenceItem]
    variants: list[VariantSummary] = field(default_factory=list)
    source: str = ""
    layout: str = ""


def _title(value: str) -> str:
    """'PREDICTIVE' / 'Predictive' / 'DOES_NOT_SUPPORT' -> 'Predictive' / 'Does Not Support'."""
    return " ".join(w.capitalize() for w in value.replace("_", " ").split())


def _significance(value: str) -> str | None:
    if not value or value.upper() == "N/A":
        return None
    return SIGNIFICANCE.get(re.sub(r"[^a-z]", "", value.lower()), value)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_profile(name: str) -> tuple[list[ProfileVariant], str | None]:
    """Split a v2 molecular profile ('EGFR L858R AND EGFR T790M', 'BCR::ABL1 Fusion') into variants."""
    combinators = set(_COMBINATOR.findall(name))
    if len(combinators) > 1:
        combinators = {"AND"}
    parts = _COMBINATOR.split(name)[::2]
    variants = []
    for part in parts:
        part = part.strip().strip("()").strip()
        negated = part.upper().startswith("NOT ")
        part = (part[4:] if negated else part).strip().strip("()").strip()
        gene, _, variant = part.partition(" ")
        variants.append(ProfileVariant(gene=gene.upper(), variant=variant.strip() or gene, negated=negated))
    return variants, (combinators.pop() if combinators else None)


def _int(value: str, location: str) -> int | None:
    if not value:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise InvalidInput(Problem(location, f"expected a number, got {value!r}", "value")) from None


def _common(row: dict, location: str, layout: str) -> dict:
    level = row["evidence_level"].strip().upper()
    if level not in LEVELS:
        raise InvalidInput(Problem(f"{location}.evidence_level", f"expected one of A-E, got {row['evidence_level']!r}", "value"))
    evidence_id = _int(row["evidence_id"], f"{location}.evidence_id")
    if evidence_id is None:
        raise InvalidInput(Problem(f"{location}.evidence_id", "missing", "required"))
    return dict(evidence_id=evidence_id, disease=row["disease"], doid=(row["doid"].removeprefix("DOID:") or None),
                evidence_type=_title(row["evidence_type"]), evidence_direction=_title(row["evidence_direction"]) or None,
                evidence_level=level, statement=row["evidence_statement"], citation=row.get("citation") or None,
                rating=_int(row.get("rating", ""), f"{location}.rating"), status=(row.get("evidence_status") or "accepted").lower(),
                variant_origin=row.get("variant_origin") or None, url=row.get("evidence_civic_url") or None, layout=layout)


def _v1_item(row: dict, location: str) -> EvidenceItem:
    coordinates = None
    if row.get("chromosome") and row.get("start"):
        coordinates = Coordinates(chromosome=row["chromosome"], start=_int(row["start"], f"{location}.start"),
                                  stop=_int(row.get("stop") or row["start"], f"{location}.stop"),
                                  reference_bases=row.get("reference_bases") or None, variant_bases=row.get("variant_bases") or None,
                                  build=row.get("reference_build") or None)
    gene = row["gene"].upper()
    return EvidenceItem(**_common(row, location, "v1"), molecular_profile=f"{gene} {row['variant']}",
                        variants=[ProfileVariant(gene=gene, variant=row["variant"])], therapies=_split(row["drugs"]),
                        significance=_significance(row["clinical_significance"]), pmid=row["pubmed_id"] or None,
                        coordinates=coordinates)


def _v2_item(row: dict, location: str) -> EvidenceItem:
    variants, combinator = parse_profile(row["molecular_profile"])
    source = (row.get("source_type") or "PubMed").lower()
    return EvidenceItem(**_common(row, location, "v2"), molecular_profile=row["molecular_profile"], variants=variants,
                        combinator=combinator, therapies=_split(row["therapies"]),
                        therapy_interaction=_title(row.get("therapy_interaction_type") or "") or None,
                        significance=_significance(row["significance"]),
                        pmid=row["citation_id"] if source == "pubmed" and row["citation_id"] else None)


def parse_evidence(text: str, name: str = EVIDENCE_FILE, accepted_only: bool = True) -> CivicExport:
    """Parse a ClinicalEvidenceSummaries TSV (v1 or v2 layout); errors name the file, row and field."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = reader.fieldnames or []
    if all(c in header for c in V2_COLUMNS):
        layout, build = "v2", _v2_item
    elif all(c in header for c in V1_COLUMNS):
        layout, build = "v1", _v1_item
    else:
        missing_v2 = [c for c in V2_COLUMNS if c not in header]
        raise InvalidInput(Problem(f"{name}: header", "not a CIViC ClinicalEvidenceSummaries export; missing columns "
                                   f"{', '.join(missing_v2)} (current layout) or {', '.join(c for c in V1_COLUMNS if c not in header)} (v1 layout)",
                                   "structure"))
    items = []
    for number, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            raise InvalidInput(Problem(f"{name}: row {number}", f"expected {len(header)} tab-separated fields", "structure"))
        item = build(row, f"{name}: row {number}")
        if item.status == "accepted" or not accepted_only:
            items.append(item)
    return CivicExport(evidence=items, source=name, layout=layout)


def parse_variant_summaries(text: str, name: str = VARIANT_FILE) -> list[VariantSummary]:
    """HGVS expressions per variant from a v1 VariantSummaries TSV (empty for layouts without them)."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    if not {"gene", "variant", "hgvs_expressions"} <= set(reader.fieldnames or []):
        return []
    return [VariantSummary(gene=row["gene"].upper(), variant=row["variant"], hgvs=_split(row["hgvs_expressions"] or ""))
            for row in reader if row.get("hgvs_expressions")]


def read_export(evidence_path: str | Path, variants_path: str | Path | None = None) -> CivicExport:
    """Read an evidence file (and optionally its VariantSummaries file) from disk."""
    path = Path(evidence_path)
    export = parse_evidence(path.read_text(encoding="utf-8"), path.name)
    if variants_path is not None and Path(variants_path).exists():
        export.variants = parse_variant_summaries(Path(variants_path).read_text(encoding="utf-8"), Path(variants_path).name)
    return export


def load(root: str | Path | None = None) -> CivicExport:
    """The CIViC export in ``root``, ``$MEDAI_DATA_DIR`` or the user cache (folder ``civic/``)."""
    folder = locate("civic", root)
    return read_export(folder / EVIDENCE_FILE, folder / VARIANT_FILE)
