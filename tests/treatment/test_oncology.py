"""Cancer variants -> therapies from CIViC: notation parsing, disease/variant matching, ranking, FHIR output."""

from __future__ import annotations

from pathlib import Path

import pytest

from medai.core.fhir import validate_resource
from medai.datasets import civic
from medai.errors import InvalidInput
from medai.treatment.oncology.diseases import resolve_tumour, tumour_types
from medai.treatment.oncology.fhir import report_to_fhir
from medai.treatment.oncology.therapies import oncology_report
from medai.treatment.oncology.variants import parse_variant, read_maf, read_vcf

FIXTURE = Path(__file__).parent / "fixtures" / "civic_v2_ClinicalEvidenceSummaries.tsv"


@pytest.fixture(scope="module")
def v2_export() -> civic.CivicExport:
    """The small fixture in the current (v2) CIViC nightly layout."""
    return civic.read_export(FIXTURE)


def report(export, variants, tumour):
    return oncology_report([parse_variant(v) for v in variants], tumour, export)


# ---------------------------------------------------------------- notation

@pytest.mark.parametrize(("text", "gene", "name", "kind"), [
    ("BRAF V600E", "BRAF", "V600E", "protein"),
    ("braf p.Val600Glu", "BRAF", "V600E", "protein"),
    ("BRAF:p.V600E", "BRAF", "V600E", "protein"),
    ("NM_004333.4(BRAF):c.1799T>A (p.Val600Glu)", "BRAF", "V600E", "protein"),
    ("BRAF c.1799T>A", "BRAF", "c.1799T>A", "coding"),
    ("BRAF 7:140453136 A>T", "BRAF", "7:140453136A>T", "genomic"),
    ("EGFR exon 19 deletion", "EGFR", "EXON 19 DELETION", "region"),
    ("ERBB2 amplification", "ERBB2", "AMPLIFICATION", "copy_number"),
    ("EML4::ALK fusion", "ALK", "EML4-ALK", "fusion"),
    ("TP53 R175*", "TP53", "R175*", "protein"),
])
def test_variant_notations(text, gene, name, kind):
    query = parse_variant(text)
    assert (query.gene, query.name, query.kind) == (gene, name, kind)


def test_a_variant_without_its_gene_is_a_clear_error():
    with pytest.raises(InvalidInput, match="write the gene then the change"):
        parse_variant("V600E")


def test_vcf_with_snpeff_annotation_and_maf():
    vcf = ("##fileformat=VCFv4.2\n##reference=GRCh37\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
           "chr7\t140453136\t.\tA\tT\t50\tPASS\tANN=T|missense_variant|MODERATE|BRAF|ENSG1|transcript|ENST1|protein_coding|15/18|"
           "c.1799T>A|p.Val600Glu|1860/2480|1799/2301|600/766||\n"
           "12\t25398284\t.\tC\tT\t50\tPASS\tDP=30\n")
    queries = read_vcf(vcf, "tumour.vcf")
    assert (queries[0].gene, queries[0].name, queries[0].genomic.build) == ("BRAF", "V600E", "GRCh37")
    assert queries[1].kind == "genomic" and queries[1].genomic.position == 25398284
    maf = ("#version 2.4\nHugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tVariant_Classification\tHGVSp_Short\n"
           "KRAS\t12\t25398284\tC\tT\tMissense_Mutation\tp.G12D\nTP53\t17\t7578406\tC\tT\tSilent\tp.R175=\n")
    (kras,) = read_maf(maf, "tumour.maf")
    assert (kras.gene, kras.name, kras.genomic.position) == ("KRAS", "G12D", 25398284)


def test_bad_vcf_and_maf_name_the_problem():
    with pytest.raises(InvalidInput, match=r"tumour.vcf: line 2: POS"):
        read_vcf("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n7\tabc\t.\tA\tT\t.\t.\t.\n", "tumour.vcf")
    with pytest.raises(InvalidInput, match="missing column Hugo_Symbol"):
        read_maf("Gene\tHGVSp_Short\nKRAS\tp.G12D\n", "x.maf")


# ---------------------------------------------------------------- tumour types

def test_tumour_resolution_by_name_synonym_doid_and_fallback():
    melanoma = resolve_tumour("Melanoma")
    assert melanoma.doid == "1909" and "8923" in melanoma.subtypes and "162" in melanoma.broader
    assert resolve_tumour("NSCLC").doid == "3908"
    assert resolve_tumour("DOID:9256").label == "colorectal cancer"
    assert resolve_tumour("DOID:99999").method == "exact DOID"
    assert resolve_tumour("desmoid fibromatosis").method == "name fallback"
    with pytest.raises(InvalidInput, match="tumour"):
        resolve_tumour(" ")


def test_every_tumour_type_carries_a_citation():
    assert all(t.citation.source for t in tumour_types().tumours)


# ---------------------------------------------------------------- ranking on the current-layout fixture

def test_braf_v600e_melanoma_gives_level_a_sensitivity_with_pmids(v2_export):
    result = report(v2_export, ["BRAF V600E"], "melanoma")
    top = {f.therapy: f for f in result.sensitivity}
    assert list(top)[:2] == ["Dabrafenib + Trametinib", "Vemurafenib"]  # both level A; melanoma itself before its subtype
    assert top["Vemurafenib"].best_level == "A" and top["Vemurafenib"].pmids == ["21639808"]
    assert top["Vemurafenib"].disease_match == "subtype"
    assert "Encorafenib + Cetuximab" not in top
    assert any(f.therapy == "Encorafenib + Cetuximab" for f in result.other_tumour_types)
    assert "Selumetinib" not in top  # a submitted, not accepted, item


def test_evidence_that_does_not_support_is_not_a_recommendation(v2_export):
    result = report(v2_export, ["BRAF V600E"], "melanoma")
    assert all(f.therapy != "Sorafenib" for f in result.sensitivity)


def test_kras_colorectal_flags_anti_egfr_resistance(v2_export):
    result = report(v2_export, ["KRAS G12D"], "colorectal cancer")
    assert not result.sensitivity
    resistance = {f.therapy: f for f in result.resistance}
    assert resistance["Panitumumab or Cetuximab"].best_level == "A"
    assert resistance["Panitumumab or Cetuximab"].effect == "resistance"
    assert {e.variant_match for f in result.resistance for e in f.evidence} == {"codon", "gene"}


def test_combination_profiles_need_every_variant(v2_export):
    assert not report(v2_export, ["EGFR L858R"], "NSCLC").sensitivity
    both = report(v2_export, ["EGFR L858R", "EGFR T790M"], "lung adenocarcinoma")
    assert both.sensitivity[0].therapy == "Osimertinib" and both.sensitivity[0].disease_match == "broader"


def test_fusions_match_across_notations(v2_export):
    for text in ("EML4-ALK", "EML4::ALK fusion", "ALK fusion"):
        assert report(v2_export, [text], "non-small cell lung cancer").sensitivity[0].therapy == "Crizotinib"


def test_unknown_variants_get_a_clear_message(v2_export):
    result = report(v2_export, ["BRAF K601E", "FOO1 V1A"], "melanoma")
    assert result.sensitivity == [] and result.resistance == []
    assert "no CIViC evidence for this variant" in result.variants[0].message
    assert "gene FOO1 has no evidence" in result.variants[1].message
    with pytest.raises(InvalidInput, match="at least one variant"):
        oncology_report([], "melanoma", v2_export)


def test_report_as_valid_fhir_diagnostic_report(v2_export):
    result = report(v2_export, ["BRAF V600E"], "melanoma")
    resource = report_to_fhir(result, patient_id="example")
    assert validate_resource(resource) == "DiagnosticReport"
    assert resource["subject"] == {"reference": "Patient/example"}
    therapies = [r for r in resource["contained"] if r["id"].startswith("therapy-")]
    assert therapies[0]["derivedFrom"] == [{"reference": "#variant-1"}]
    assert any("PMID: 21639808" in n["text"] for r in therapies for n in r["note"])
    assert "Vemurafenib (level A)" in resource["conclusion"]


# ---------------------------------------------------------------- the real May-2018 export

@pytest.fixture(scope="module")
def real_export():
    import os

    return civic.load(os.environ["MEDAI_DATA_DIR"])


@pytest.mark.data
def test_real_export_braf_v600e_melanoma(real_export):
    result = report(real_export, ["BRAF V600E"], "melanoma")
    level_a = {f.therapy: f for f in result.sensitivity if f.best_level == "A"}
    assert "Vemurafenib" in level_a and any({"dabrafenib", "trametinib"} == set(f.drugs) for f in level_a.values())
    assert "21639808" in level_a["Vemurafenib"].pmids


@pytest.mark.data
def test_real_export_kras_colorectal_cetuximab_resistance(real_export):
    result = report(real_export, ["KRAS G12D"], "colorectal cancer")
    cetuximab = next(f for f in result.resistance if f.drugs == ["cetuximab"])
    assert cetuximab.best_level == "A" and cetuximab.variant_match == "region"
    assert "18946061" in cetuximab.pmids


@pytest.mark.data
def test_real_export_matches_hgvs_and_genomic_notations(real_export):
    by_protein = report(real_export, ["BRAF V600E"], "melanoma")
    for text in ("BRAF c.1799T>A", "BRAF 7:140453136 A>T"):
        other = report(real_export, [text], "melanoma")
        assert [f.therapy for f in other.sensitivity[:3]] == [f.therapy for f in by_protein.sensitivity[:3]]
    resource = report_to_fhir(by_protein)
    assert validate_resource(resource) == "DiagnosticReport"
