"""CIViC evidence exports: both layouts parse into the same items; bad files name the row and field; the real export loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from medai.datasets import civic
from medai.datasets.registry import DATASETS, verify
from medai.errors import InvalidInput

V2_FIXTURE = Path(__file__).parents[1] / "treatment" / "fixtures" / "civic_v2_ClinicalEvidenceSummaries.tsv"
V1_HEADER = ("gene\tentrez_id\tvariant\tdisease\tdoid\tphenotypes\tdrugs\tevidence_type\tevidence_direction\tevidence_level\t"
             "clinical_significance\tevidence_statement\tpubmed_id\tcitation\tnct_ids\trating\tevidence_status\tevidence_id\t"
             "variant_id\tgene_id\tchromosome\tstart\tstop\treference_bases\tvariant_bases\treference_build")
V1_ROW = ("BRAF\t673\tV600E\tSkin Melanoma\t8923\t\tVemurafenib\tPredictive\tSupports\tA\tSensitivity\tTrial statement.\t21639808\t"
          "Chapman et al., 2011\t\t5\taccepted\t95\t12\t5\t7\t140453136\t140453136\tA\tT\tGRCh37")


def test_registry_entry_has_checksums_licence_and_citation():
    dataset = DATASETS["civic"]
    assert set(dataset.files) == {civic.EVIDENCE_FILE, civic.VARIANT_FILE, "nightly-GeneSummaries.tsv"}
    assert all(len(h) == 64 for h in dataset.files.values())
    assert "CC0" in dataset.licence and "Nat Genet" in dataset.citation


def test_v1_layout_parses_with_coordinates():
    export = civic.parse_evidence(V1_HEADER + "\n" + V1_ROW + "\n", "v1.tsv")
    (item,) = export.evidence
    assert export.layout == "v1"
    assert (item.molecular_profile, item.significance, item.pmid, item.evidence_level) == ("BRAF V600E", "Sensitivity/Response", "21639808", "A")
    assert item.coordinates.start == 140453136 and item.coordinates.build == "GRCh37"


def test_current_layout_fixture_parses():
    export = civic.read_export(V2_FIXTURE)
    assert export.layout == "v2"
    assert len(export.evidence) == 9  # the submitted item is left out
    by_id = {i.evidence_id: i for i in export.evidence}
    assert by_id[9002].therapy_interaction == "Combination" and by_id[9002].therapies == ["Dabrafenib", "Trametinib"]
    assert [(v.gene, v.variant) for v in by_id[9007].variants] == [("EGFR", "L858R"), ("EGFR", "T790M")]
    assert by_id[9007].combinator == "AND"
    assert by_id[9008].variants[0].gene == "EML4::ALK"
    assert by_id[9009].pmid is None  # an ASCO abstract, not a PubMed id
    assert by_id[9004].evidence_type == "Prognostic" and by_id[9004].significance == "Poor Outcome"
    everything = civic.parse_evidence(V2_FIXTURE.read_text(), accepted_only=False)
    assert len(everything.evidence) == 10


def test_profile_parsing_handles_negation_and_or():
    variants, combinator = civic.parse_profile("BRAF V600E AND NOT ( MET Amplification )")
    assert combinator == "AND" and variants[1].negated and variants[1].gene == "MET"
    assert civic.parse_profile("KIT D816V OR KIT D816H")[1] == "OR"


def test_bad_files_name_the_problem():
    with pytest.raises(InvalidInput, match="not a CIViC ClinicalEvidenceSummaries export"):
        civic.parse_evidence("a\tb\n1\t2\n", "x.tsv")
    with pytest.raises(InvalidInput, match=r"v1.tsv: row 2.evidence_level"):
        civic.parse_evidence(V1_HEADER + "\n" + V1_ROW.replace("\tA\tSensitivity", "\tZ\tSensitivity") + "\n", "v1.tsv")
    with pytest.raises(InvalidInput, match=r"v1.tsv: row 2"):
        civic.parse_evidence(V1_HEADER + "\n" + "BRAF\t673\tV600E\n", "v1.tsv")


@pytest.mark.data
def test_real_may_2018_export_loads(data_dir):
    assert all(verify("civic", data_dir).values())
    export = civic.load(data_dir)
    assert export.layout == "v1" and len(export.evidence) == 2525
    levels = {level: sum(i.evidence_level == level for i in export.evidence) for level in "ABCDE"}
    assert levels == {"A": 61, "B": 1038, "C": 686, "D": 672, "E": 68}
    assert any("c.1799T>A" in h for v in export.variants if (v.gene, v.variant) == ("BRAF", "V600E") for h in v.hgvs)
