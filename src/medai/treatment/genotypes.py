"""Warfarin pharmacogene genotypes read from FHIR R4 ``Observation``s.

The convention is the HL7 Genomics Reporting IG *Genotype* profile: ``Observation.code`` is LOINC
84413-4 "Genotype display name", the gene is the component LOINC 48018-6 "Gene studied [ID]"
(an HGNC coding or text), and the genotype is ``valueCodeableConcept`` (text or a coding's
display) or ``valueString``, e.g.:

* ``CYP2C9 *1/*3`` (or ``CYP2C9*1/*3``) -> ``cyp2c9 = "*1/*3"``
* ``VKORC1 rs9923231 C/T`` -> ``vkorc1 = "A/G"``. rs9923231 is reported on the genomic (forward)
  strand, C>T, which is -1639G>A on the VKORC1 (reverse) strand: C = G, T = A.
  ``VKORC1 -1639G>A A/G`` (gene strand) is read as written.
* ``CYP4F2 rs2108622 C/T`` -> ``cyp4f2 = "C/T"`` (T is CYP4F2*3);
  ``rs12777823 A/G`` -> ``rs12777823 = "A/G"``.

When the gene component is absent, the gene named at the start of the value is used. A genotype
that cannot be read is reported (never guessed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GENOTYPE_LOINC = "84413-4"
GENE_STUDIED_LOINC = "48018-6"
LOINC = "http://loinc.org"
HGNC = {"HGNC:23663": "VKORC1", "HGNC:2623": "CYP2C9", "HGNC:13577": "CYP4F2"}
_FORWARD_TO_GENE_STRAND = str.maketrans("CT", "GA")
_PAIR = re.compile(r"\b([ACGT])\s*/\s*([ACGT])\b")
_STAR = re.compile(r"(\*\d+)\s*/\s*(\*\d+)")


@dataclass
class Genotypes:
    """Genotypes found for the warfarin genes (``WarfarinPatient`` field names) and what could not be read."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _codes(concept: dict | None) -> list[str]:
    return [c.get("code", "") for c in (concept or {}).get("coding", []) if c.get("system") in (LOINC, None)]


def _concept_text(concept: dict | None) -> str:
    concept = concept or {}
    return concept.get("text") or next((c.get("display") or c.get("code") or "" for c in concept.get("coding", [])), "")


def _value_text(observation: dict) -> str:
    return observation.get("valueString") or _concept_text(observation.get("valueCodeableConcept"))


def _gene(observation: dict, value: str) -> str:
    for component in observation.get("component", []):
        if GENE_STUDIED_LOINC in _codes(component.get("code")):
            concept = component.get("valueCodeableConcept") or {}
            codes = [c.get("code", "") for c in concept.get("coding", [])]
            named = next((HGNC[c] for c in codes if c in HGNC), None)
            return (named or _concept_text(concept)).upper()
    match = re.match(r"\s*([A-Za-z0-9]+)", value)
    return match.group(1).upper() if match else ""


def _pair(text: str) -> str | None:
    match = _PAIR.search(text.upper())
    return "/".join(sorted((match.group(1), match.group(2)))) if match else None


def read_genotype(gene: str, value: str) -> tuple[str, str] | None:
    """(``WarfarinPatient`` field, genotype) for one gene and value text, or None when not a warfarin gene."""
    text = value.upper()
    if gene == "CYP2C9" or text.startswith("CYP2C9"):
        star = _STAR.search(value)
        return ("cyp2c9", f"{star.group(1)}/{star.group(2)}") if star else ("cyp2c9", "")
    if "RS12777823" in text:
        return "rs12777823", _pair(text) or ""
    if gene == "VKORC1" or text.startswith("VKORC1"):
        pair = _pair(text.split("G>A")[-1])
        if pair and "RS9923231" in text:
            pair = "/".join(sorted(pair.translate(_FORWARD_TO_GENE_STRAND).split("/")))
        return "vkorc1", pair or ""
    if gene == "CYP4F2" or text.startswith("CYP4F2"):
        return "cyp4f2", _pair(text) or ""
    return None


def warfarin_genotypes(observations: list[dict]) -> Genotypes:
    """The latest readable genotype of each warfarin gene among ``observations`` (raw FHIR)."""
    found = Genotypes()
    ordered = sorted(observations, key=lambda o: o.get("effectiveDateTime") or o.get("issued") or "")
    for observation in ordered:
        if GENOTYPE_LOINC not in _codes(observation.get("code")) or observation.get("status") in ("entered-in-error", "cancelled"):
            continue
        value = _value_text(observation)
        read = read_genotype(_gene(observation, value), value)
        where = f"Observation/{observation.get('id')}"
        if read is None:
            continue
        name, genotype = read
        if not genotype:
            found.problems.append(f"{where}: genotype {value!r} could not be read; {name} treated as unknown")
            continue
        found.values[name] = genotype
        found.sources[name] = where
    return found
