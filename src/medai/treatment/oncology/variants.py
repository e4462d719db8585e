"""Variants as users have them -> ``VariantQuery``: protein changes, HGVS, fusions, VCF and MAF files.

Accepted single-variant notations (gene first): ``BRAF V600E``, ``BRAF p.V600E``,
``BRAF p.Val600Glu``, ``BRAF:p.V600E``, ``NM_004333.4(BRAF):c.1799T>A (p.Val600Glu)``,
``BRAF c.1799T>A``, ``BRAF 7:140453136 A>T``, ``EGFR exon 19 deletion``, ``ERBB2 amplification``,
``EML4-ALK`` / ``EML4::ALK fusion`` / ``ALK fusion``. VCF records are read with their SnpEff
``ANN`` or VEP ``CSQ`` annotation when present (gene, HGVS.p, HGVS.c); MAF rows with
``Hugo_Symbol`` and ``HGVSp_Short``. Bad input raises ``InvalidInput`` naming the line and field.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from medai.errors import InvalidInput, Problem

AA3 = {"Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G", "His": "H", "Ile": "I",
       "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V",
       "Ter": "*", "Sec": "U"}
_AA = "|".join(AA3) + "|[ACDEFGHIKLMNPQRSTVWYU*]"
_PROTEIN = re.compile(rf"^(?:p\.)?\(?(?P<ref>{_AA})(?P<pos>\d+)(?P<alt>{_AA}|=|fs\*?\d*|del|dup|ins\w+|delins\w+)?\)?$")
_GENOMIC = re.compile(r"^(?:chr)?(?P<chrom>[0-9XYM]{1,2})[:\-](?:g\.)?(?P<pos>\d+)[:\-\s]?(?P<ref>[ACGT]+)(?:>|-|\s)(?P<alt>[ACGT]+)$", re.I)
_SILENT_MAF = {"Silent", "Intron", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "IGR", "RNA"}
Kind = Literal["protein", "coding", "genomic", "fusion", "copy_number", "region", "other"]


class Position(BaseModel):
    """A genomic change (build as given; the 2018 CIViC export is GRCh37)."""

    chromosome: str
    position: int
    reference: str
    alternate: str
    build: str | None = None


class VariantQuery(BaseModel):
    """One variant to look up, normalised to CIViC's naming."""

    text: str = Field(description="What the user or file gave.")
    gene: str | None = None
    name: str = Field(description="CIViC-style variant name, e.g. 'V600E', 'EXON 19 DELETION', 'AMPLIFICATION'.")
    kind: Kind
    position: int | None = Field(default=None, description="Protein position, for protein changes.")
    reference_aa: str | None = None
    hgvs_c: str | None = None
    partners: list[str] = Field(default_factory=list, description="Fusion partner genes.")
    genomic: Position | None = None
    source: str | None = Field(default=None, description="Where it came from, e.g. 'VCF line 12'.")

    @property
    def label(self) -> str:
        """'BRAF V600E'."""
        return f"{self.gene or ''} {self.name}".strip()


def protein_change(text: str) -> tuple[str, int, str | None] | None:
    """('V', 600, 'E') from 'V600E', 'p.V600E' or 'p.Val600Glu' (None when not a protein change)."""
    match = _PROTEIN.match(text.strip())
    if not match:
        return None
    ref, alt = AA3.get(match["ref"], match["ref"]), match["alt"]
    if alt is not None:
        alt = AA3.get(alt, alt).upper() if alt not in ("=",) else "="
    return ref, int(match["pos"]), alt


def _protein_query(text: str, gene: str | None, change: str, source: str | None, **extra) -> VariantQuery | None:
    parsed = protein_change(change)
    if parsed is None:
        return None
    ref, pos, alt = parsed
    return VariantQuery(text=text, gene=gene, name=f"{ref}{pos}{alt or ''}", kind="protein", position=pos, reference_aa=ref,
                        source=source, **extra)


def _special(text: str, gene: str, rest: str, source: str | None) -> VariantQuery | None:
    upper = re.sub(r"\s+", " ", rest.upper()).strip()
    if re.fullmatch(r"(AMP|AMPLIFICATION|AMPLIFIED|COPY NUMBER GAIN)", upper):
        return VariantQuery(text=text, gene=gene, name="AMPLIFICATION", kind="copy_number", source=source)
    if re.fullmatch(r"(FUSIONS?|REARRANGEMENT)", upper):
        return VariantQuery(text=text, gene=gene, name="FUSION", kind="fusion", partners=[gene], source=source)
    exon = re.fullmatch(r"EXON (\d+) (DELETION|DEL|INSERTION|INS|MUTATION|SKIPPING)S?", upper)
    if exon:
        word = {"DEL": "DELETION", "INS": "INSERTION"}.get(exon[2], exon[2])
        return VariantQuery(text=text, gene=gene, name=f"EXON {exon[1]} {word}", kind="region", source=source)
    return None


def _fusion(text: str) -> VariantQuery | None:
    core = re.sub(r"\s+fusion$", "", text.strip(), flags=re.I)
    parts = re.split(r"::|-", core)
    if len(parts) == 2 and all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]+", p) for p in parts) and not protein_change(parts[1]):
        partners = [p.upper() for p in parts]
        return VariantQuery(text=text, gene=partners[1], name="-".join(partners), kind="fusion", partners=partners)
    return None


def parse_variant(text: str, source: str | None = None) -> VariantQuery:
    """Parse one variant written with its gene (``InvalidInput`` says what form is expected)."""
    raw = (text or "").strip()
    location = source or "variant"
    if not raw:
        raise InvalidInput(Problem(location, "empty variant; give e.g. 'BRAF V600E'", "required"))
    hgvs = re.match(r"^(?:[NX][MC]_[\d.]+)?\((?P<gene>[A-Za-z0-9-]+)\):(?P<c>c\.\S+)(?:\s*\((?P<p>p\.[^)]+)\))?", raw)
    if hgvs:
        query = _protein_query(raw, hgvs["gene"].upper(), hgvs["p"], source, hgvs_c=hgvs["c"]) if hgvs["p"] else None
        return query or VariantQuery(text=raw, gene=hgvs["gene"].upper(), name=hgvs["c"], kind="coding", hgvs_c=hgvs["c"], source=source)
    fusion = _fusion(raw)
    if fusion is not None:
        return fusion.model_copy(update={"source": source})
    gene, _, rest = re.sub(r"^([A-Za-z0-9-]+):", r"\1 ", raw).partition(" ")
    rest = rest.strip()
    if not rest or protein_change(gene):
        raise InvalidInput(Problem(location, f"cannot read {raw!r}: write the gene then the change, e.g. 'BRAF V600E', "
                                   "'BRAF p.Val600Glu', 'BRAF c.1799T>A', 'EGFR exon 19 deletion' or 'EML4-ALK'", "value"))
    gene = gene.upper()
    if rest.lower().startswith("c."):
        return VariantQuery(text=raw, gene=gene, name=rest, kind="coding", hgvs_c=rest, source=source)
    genomic = _GENOMIC.match(rest.replace(" ", ""))
    if genomic:
        position = Position(chromosome=genomic["chrom"].upper(), position=int(genomic["pos"]), reference=genomic["ref"].upper(),
                            alternate=genomic["alt"].upper())
        return VariantQuery(text=raw, gene=gene, name=f"{position.chromosome}:{position.position}{position.reference}>{position.alternate}",
                            kind="genomic", genomic=position, source=source)
    return (_protein_query(raw, gene, rest, source) or _special(raw, gene, rest, source)
            or VariantQuery(text=raw, gene=gene, name=rest.upper(), kind="other", source=source))


# ---------------------------------------------------------------- VCF

def _csq_format(header_lines: list[str]) -> list[str]:
    for line in header_lines:
        if line.startswith("##INFO=<ID=CSQ") and "Format:" in line:
            return line.split("Format:")[1].strip().rstrip('">').split("|")
    return []


def _annotation(info: dict[str, str], alt: str, csq_fields: list[str]) -> tuple[str | None, str | None, str | None]:
    """(gene, HGVS.p, HGVS.c) for an allele from SnpEff ANN, VEP CSQ or simple INFO keys."""
    for entry in info.get("ANN", "").split(","):
        fields = entry.split("|")
        if len(fields) > 10 and fields[0] in (alt, ""):
            return fields[3] or None, fields[10] or None, fields[9] or None
    if csq_fields and "CSQ" in info:
        for entry in info["CSQ"].split(","):
            record = dict(zip(csq_fields, entry.split("|")))
            if record.get("Allele") in (alt, None, "") or len(info["CSQ"].split(",")) == 1:
                protein = (record.get("HGVSp") or "").split(":")[-1] or None
                coding = (record.get("HGVSc") or "").split(":")[-1] or None
                return record.get("SYMBOL") or None, protein, coding
    gene = (info.get("GENE") or info.get("GENEINFO", "").split(":")[0]) or None
    return gene, info.get("HGVSP") or info.get("AA") or None, info.get("HGVSC") or None


def read_vcf(text: str, name: str = "VCF") -> list[VariantQuery]:
    """One ``VariantQuery`` per ALT allele of every record; ``InvalidInput`` names the bad line."""
    queries, header, build = [], [], None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("##"):
            header.append(line)
            build = build or next((b for b in ("GRCh37", "GRCh38", "hg19", "hg38") if b.lower() in line.lower()), None)
            continue
        if line.startswith("#") or not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        location = f"{name}: line {number}"
        if len(fields) < 8:
            raise InvalidInput(Problem(location, f"expected at least 8 tab-separated VCF columns, found {len(fields)}", "structure"))
        if not fields[1].isdigit():
            raise InvalidInput(Problem(f"{location}: POS", f"not a position: {fields[1]!r}", "value"))
        info = dict(item.partition("=")[::2] for item in fields[7].split(";") if item and item != ".")
        for alt in fields[4].split(","):
            gene, protein, coding = _annotation(info, alt, _csq_format(header))
            position = Position(chromosome=fields[0].removeprefix("chr").upper(), position=int(fields[1]), reference=fields[3].upper(),
                                alternate=alt.upper(), build=build)
            text_ = f"{fields[0]}:{fields[1]} {fields[3]}>{alt}" + (f" ({gene} {protein or coding or ''})".rstrip() if gene else "")
            query = _protein_query(text_, gene.upper(), protein, location, genomic=position, hgvs_c=coding) if gene and protein else None
            queries.append(query or VariantQuery(text=text_, gene=gene.upper() if gene else None, kind="genomic", genomic=position,
                                                 hgvs_c=coding, source=location,
                                                 name=f"{position.chromosome}:{position.position}{position.reference}>{position.alternate}"))
    return queries


# ---------------------------------------------------------------- MAF

def read_maf(text: str, name: str = "MAF") -> list[VariantQuery]:
    """One ``VariantQuery`` per non-silent MAF row (needs ``Hugo_Symbol``)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t")
    if "Hugo_Symbol" not in (reader.fieldnames or []):
        raise InvalidInput(Problem(f"{name}: header", "missing column Hugo_Symbol (is this a MAF file?)", "structure"))
    queries = []
    for number, row in enumerate(reader, start=2):
        if row.get("Variant_Classification") in _SILENT_MAF:
            continue
        location = f"{name}: row {number}"
        gene = (row.get("Hugo_Symbol") or "").upper()
        if not gene:
            raise InvalidInput(Problem(f"{location}: Hugo_Symbol", "empty gene symbol", "required"))
        protein = next((row[c].split(":")[-1] for c in ("HGVSp_Short", "Protein_Change", "HGVSp") if row.get(c)), None)
        genomic = None
        if (row.get("Start_Position") or "").isdigit() and row.get("Chromosome"):
            genomic = Position(chromosome=row["Chromosome"].removeprefix("chr").upper(), position=int(row["Start_Position"]),
                               reference=(row.get("Reference_Allele") or "").upper(), alternate=(row.get("Tumor_Seq_Allele2") or "").upper(),
                               build=row.get("NCBI_Build") or None)
        text_ = f"{gene} {protein or ''}".strip()
        query = _protein_query(text_, gene, protein, location, genomic=genomic, hgvs_c=row.get("HGVSc") or None) if protein else None
        if query is None and genomic is not None:
            query = VariantQuery(text=text_, gene=gene, kind="genomic", genomic=genomic, source=location,
                                 name=f"{genomic.chromosome}:{genomic.position}{genomic.reference}>{genomic.alternate}")
        if query is None:
            raise InvalidInput(Problem(location, "no protein change (HGVSp_Short) and no position (Start_Position)", "required"))
        queries.append(query)
    return queries


def read_variant_file(path: str | Path, kind: Literal["vcf", "maf"]) -> list[VariantQuery]:
    """Read a VCF or MAF file from disk."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    return read_vcf(text, path.name) if kind == "vcf" else read_maf(text, path.name)
