"""Drug-drug interaction checking: the curated table, pair findings with severity and source, Synthea medication lists."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from medai.treatment.interactions import InteractionTable, check_interactions, identify_medication, interaction_table
from medai.treatment.knowledge import KnowledgeError, parse_knowledge
from medai.treatment.patient_context import context_from_bundle
from tests.treatment.test_regimens import _synthea_bundle, fhir_patient


def _ids(medications: list[str]) -> dict[str, str]:
    return {f.id: f.severity for f in check_interactions(medications).findings}


def test_table_is_large_cited_and_consistent():
    table = interaction_table()
    assert len(table.interactions) >= 60
    assert all(len(rule.citation.source) > 20 for rule in table.interactions)
    assert all(drug.classes and drug.citation.source for drug in table.drugs)
    expected_themes = {"warfarin-nsaid", "qt-qt", "maoi-serotonergic", "ras-potassium-sparing", "statin-strong-cyp3a4",
                       "methotrexate-trimethoprim", "lithium-thiazide", "acei-arb", "nitrate-pde5"}
    assert expected_themes <= {rule.id for rule in table.interactions}


@pytest.mark.parametrize(("medications", "rule", "severity"), [
    (["Simvastatin 40 MG Oral Tablet", "Clarithromycin 500 MG Oral Tablet"], "statin-strong-cyp3a4", "contraindicated"),
    (["lisinopril 10 MG Oral Tablet", "losartan 50 MG Oral Tablet"], "acei-arb", "major"),
    (["Warfarin Sodium 5 MG Oral Tablet", "Ibuprofen 400 MG Oral Tablet"], "warfarin-nsaid", "major"),
    (["Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray", "sildenafil 50 MG"], "nitrate-pde5", "contraindicated"),
    (["Methotrexate 10 MG Oral Tablet", "sulfamethoxazole 800 MG / trimethoprim 160 MG"], "methotrexate-trimethoprim", "major"),
    (["lithium carbonate 300 MG", "Hydrochlorothiazide 25 MG"], "lithium-thiazide", "major"),
    (["sertraline 50 MG", "tramadol 50 MG"], "ssri-tramadol", "major"),
    (["phenelzine 15 MG", "Sertraline 100MG"], "maoi-serotonergic", "contraindicated"),
    (["citalopram 20 MG", "ondansetron 4 MG"], "qt-qt", "major"),
    (["spironolactone 25 MG", "enalapril 10 MG"], "ras-potassium-sparing", "major"),
    (["Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet", "Diazepam [Valium]"], "opioid-benzodiazepine", "major"),
    (["Clopidogrel 75 MG Oral Tablet", "omeprazole 20 MG"], "clopidogrel-ppi", "major"),
    (["Digoxin 0.125 MG Oral Tablet", "amiodarone 200 MG"], "digoxin-amiodarone", "major"),
    (["tizanidine 4 MG", "ciprofloxacin 500 MG"], "tizanidine-cyp1a2", "contraindicated"),
])
def test_clinically_significant_pairs_are_found_with_severity_and_source(medications, rule, severity):
    report = check_interactions(medications)
    finding = next(f for f in report.findings if f.id == rule)
    assert finding.severity == severity
    assert finding.citation.source and finding.management and set(finding.medications) == set(medications)


def test_findings_are_ordered_by_severity_and_unrecognised_drugs_reported():
    report = check_interactions(["Simvistatin 10 MG", "Clarithromycin 500 MG", "Warfarin 5 MG", "Naproxen 220 MG", "Vitamin B 12 5 MG/ML"])
    order = {"contraindicated": 0, "major": 1, "moderate": 2, "minor": 3}
    assert [order[f.severity] for f in report.findings] == sorted(order[f.severity] for f in report.findings)
    assert report.findings[0].id == "statin-strong-cyp3a4"
    assert report.unrecognised == ["Vitamin B 12 5 MG/ML"]
    assert report.counts["contraindicated"] == 1


def test_no_interaction_within_one_product_or_with_itself():
    assert check_interactions(["sacubitril 97 MG / valsartan 103 MG Oral Tablet"]).findings == []
    assert check_interactions(["citalopram 20 MG", "citalopram 10 MG"]).findings == []
    assert check_interactions(["amlodipine 5 MG", "Acetaminophen 500 MG"]).findings == []


def test_combination_products_and_misspellings_are_recognised():
    item = identify_medication("Acetaminophen 325 MG / HYDROcodone Bitartrate 5 MG [Vicodin]")
    assert set(item.ingredients) == {"acetaminophen", "hydrocodone"}
    assert identify_medication("Simvistatin 10 MG").ingredients == ["simvastatin"]
    assert identify_medication("Lasix 40mg").ingredients == ["furosemide"]


def test_a_class_pair_fires_once_per_drug_pair():
    findings = [f for f in check_interactions(["amiodarone 200 MG", "haloperidol 5 MG", "levofloxacin 500 MG"]).findings if f.id == "qt-qt"]
    assert len(findings) == 3


def test_bad_interaction_file_names_the_field():
    good = """
version: "1"
description: "test"
drugs: [{name: warfarin, names: [warfarin], classes: [vka], citation: {source: "RxNorm"}},
        {name: ibuprofen, names: [ibuprofen], classes: [nsaid], citation: {source: "RxNorm"}}]
interactions:
  - {id: w-n, a: {class: vka}, b: {class: nsaid}, severity: major, effect: "bleeding", mechanism: "additive", management: "avoid",
     citation: {source: "Some label"}}
"""
    assert len(parse_knowledge(good, InteractionTable, "t.yaml").interactions) == 1
    with pytest.raises(KnowledgeError, match=r"t.yaml: interactions.0.severity"):
        parse_knowledge(good.replace("severity: major", "severity: severe"), InteractionTable, "t.yaml")
    with pytest.raises(KnowledgeError, match="unknown drug or class statins"):
        parse_knowledge(good.replace("b: {class: nsaid}", "b: {class: statins}"), InteractionTable, "t.yaml")
    with pytest.raises(KnowledgeError, match=r"interactions.0.citation"):
        parse_knowledge(good.replace('citation: {source: "Some label"}', "citation: {}"), InteractionTable, "t.yaml")


def test_active_medications_of_a_fhir_patient_are_checked():
    bundle = fhir_patient(meds=["lisinopril 10 MG Oral Tablet", "losartan 50 MG Oral Tablet"])
    context = context_from_bundle(bundle)
    report = check_interactions(context.medications)
    assert report.findings[0].id == "acei-arb"
    assert all(m.source_id.startswith("MedicationRequest/") for m in report.medications)


@pytest.mark.data
def test_synthea_patient_medication_list(data_dir):
    context = context_from_bundle(_synthea_bundle(data_dir, "Trey_Berge"), as_of=datetime(2022, 1, 1, tzinfo=timezone.utc))
    found = {f.id: f for f in check_interactions(context.medications).findings}
    assert found["warfarin-antiplatelet"].severity == "major"
    assert found["digoxin-pgp"].ingredients == ("digoxin", "verapamil")
    assert found["simvastatin-moderate-cyp3a4"].severity == "major"
