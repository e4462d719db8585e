"""Guideline regimens (ADA 2025 type 2 diabetes, 2017 ACC/AHA hypertension) on hand-made FHIR patients and Synthea."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from medai.treatment.knowledge import KnowledgeError, parse_knowledge
from medai.treatment.patient_context import context_from_bundle
from medai.treatment.regimens.phenotypes import phenotype_definitions
from medai.treatment.regimens.diabetes import diabetes_knowledge, diabetes_plan
from medai.treatment.regimens.hypertension import hypertension_knowledge, hypertension_plan
from medai.treatment.regimens.plan import RegimenFile

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
SNOMED = "http://snomed.info/sct"
CONDITIONS = {"t2d": ("44054006", "Diabetes mellitus type 2"), "hf": ("84114007", "Heart failure"),
              "mi": ("22298006", "Myocardial infarction"), "ckd3": ("433144002", "Chronic kidney disease stage 3"),
              "htn": ("38341003", "Hypertension"), "pregnancy": ("77386006", "Pregnancy"), "t1d": ("46635009", "Diabetes mellitus type 1")}
LABS = {"hba1c": ("4548-4", "%"), "egfr": ("33914-3", "mL/min/{1.73_m2}"), "bmi": ("39156-5", "kg/m2"), "uacr": ("14959-1", "mg/g"),
        "creatinine": ("2160-0", "mg/dL")}


def fhir_patient(conditions=(), labs=None, bp=None, meds=(), gender="male", birth="1960-01-01", black=False, deceased=None) -> dict:
    """A transaction Bundle for one patient: conditions (keys of CONDITIONS), labs, BP readings and active medications."""
    pid = str(uuid.uuid4())
    patient = {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth, "name": [{"family": "Test", "given": ["Pat"]}]}
    if black:
        patient["extension"] = [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                                 "extension": [{"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238",
                                                                                      "code": "2054-5", "display": "Black or African American"}},
                                               {"url": "text", "valueString": "Black or African American"}]}]
    if deceased:
        patient["deceasedDateTime"] = deceased
    resources = [patient]
    ref = {"reference": f"urn:uuid:{pid}"}
    for key in conditions:
        code, display = CONDITIONS[key]
        resources.append({"resourceType": "Condition", "id": str(uuid.uuid4()), "subject": ref,
                          "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                          "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                          "onsetDateTime": (NOW - timedelta(days=60)).isoformat()})
    for name, value in (labs or {}).items():
        code, unit = LABS[name]
        resources.append({"resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final", "subject": ref,
                          "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                          "effectiveDateTime": (NOW - timedelta(days=7)).isoformat(),
                          "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}})
    for day, (sbp, dbp) in enumerate(bp or []):
        resources.append({"resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final", "subject": ref,
                          "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}]},
                          "effectiveDateTime": (NOW - timedelta(days=30 - day)).isoformat(),
                          "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                                         "valueQuantity": {"value": sbp, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                                        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                                         "valueQuantity": {"value": dbp, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]})
    for text in meds:
        resources.append({"resourceType": "MedicationRequest", "id": str(uuid.uuid4()), "status": "active", "intent": "order",
                          "subject": ref, "medicationCodeableConcept": {"text": text}})
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r, "request": {"method": "POST", "url": r["resourceType"]}} for r in resources]}


def context(**kwargs):
    """The PatientContext of a hand-made patient, assessed on NOW."""
    pregnant = kwargs.pop("pregnant", None)
    return context_from_bundle(fhir_patient(**kwargs), as_of=NOW, pregnant=pregnant)


def option(plan, option_id):
    """One option of a plan by id."""
    return next(o for o in plan.options if o.id == option_id)


def step_ids(plan) -> set[str]:
    return {s.id for s in plan.steps}


# ---------------------------------------------------------------- type 2 diabetes

def test_heart_failure_ranks_sglt2_inhibitor_first():
    plan = diabetes_plan(context(conditions=["t2d", "hf"], labs={"hba1c": 7.8, "egfr": 75, "bmi": 27}))
    first = plan.ranked[0]
    assert first.id == "sglt2i" and first.status == "recommended" and first.rank == 1
    reason = next(r for r in first.reasons if r.id == "sglt2i_heart_failure")
    assert "Heart failure" in reason.evidence[0] and "American Diabetes Association" in reason.citation.source
    assert option(plan, "tzd").status == "avoid"
    assert {"cardiorenal_independent_of_a1c", "heart_failure_sglt2", "intensify"} <= step_ids(plan)


def test_ascvd_ranks_glp1_ra_or_sglt2i_with_proven_benefit_above_metformin():
    plan = diabetes_plan(context(conditions=["t2d", "mi"], labs={"hba1c": 7.6, "egfr": 80, "bmi": 27}))
    top_two = [o.id for o in plan.ranked[:2]]
    assert set(top_two) == {"glp1ra", "sglt2i"}
    assert option(plan, "metformin").rank > 2
    assert any(r.id == "glp1ra_ascvd" for r in option(plan, "glp1ra").reasons)
    assert "cardiorenal_independent_of_a1c" in step_ids(plan)


def test_egfr_below_30_contraindicates_metformin_but_not_sglt2i_above_20():
    plan = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 8.0, "egfr": 25}, meds=["metformin 1000 MG Oral Tablet"]))
    metformin = option(plan, "metformin")
    assert metformin.status == "contraindicated" and metformin.rank is None
    assert any(r.id == "metformin_egfr_below_30" for r in metformin.restrictions)
    assert plan.ranked[0].id == "sglt2i"
    assert "metformin_renal_review" in step_ids(plan)
    very_low = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 8.0, "egfr": 15}))
    assert option(very_low, "sglt2i").status == "avoid"


def test_egfr_30_to_45_means_do_not_start_metformin():
    plan = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 7.5, "egfr": 40}))
    assert option(plan, "metformin").status == "avoid"


def test_uncomplicated_type2_diabetes_starts_with_metformin():
    plan = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 7.4, "egfr": 90, "bmi": 23}, birth="1975-01-01"))
    assert plan.ranked[0].id == "metformin"
    assert plan.assessment["hba1c_above_target_by"] == pytest.approx(0.4)
    assert plan.target.id == "target_default"
    older = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 7.4}, birth="1955-01-01"))
    assert older.target.id == "target_older_healthy" and "at_target" in step_ids(older)


def test_obesity_favours_incretin_agents():
    plan = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 7.4, "egfr": 90, "bmi": 34}))
    assert {plan.ranked[0].id, plan.ranked[1].id} == {"gip_glp1ra", "glp1ra"}


def test_far_above_target_advises_combination_and_insulin():
    plan = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 10.8, "egfr": 90, "bmi": 24}))
    assert {"early_combination", "consider_insulin"} <= step_ids(plan)
    assert plan.ranked[0].id == "insulin"


def test_pregnancy_prefers_insulin_and_sets_a_tighter_target():
    plan = diabetes_plan(context(conditions=["t2d"], labs={"hba1c": 6.8}, gender="female", birth="1995-03-01", pregnant=True))
    assert plan.ranked[0].id == "insulin" and plan.target.id == "target_pregnancy"
    assert all(option(plan, o).status == "avoid" for o in ("sglt2i", "glp1ra", "dpp4i", "sulfonylurea"))


def test_older_adult_with_dementia_gets_a_less_stringent_target():
    ctx = context(conditions=["t2d"], labs={"hba1c": 7.7}, birth="1940-01-01")
    ctx.phenotypes["dementia"] = ["test: dementia"]
    plan = diabetes_plan(ctx)
    assert plan.target.id == "target_older_cognitive" and "at_target" in step_ids(plan)


def test_egfr_is_derived_from_creatinine_when_not_reported():
    ctx = context(conditions=["t2d"], labs={"creatinine": 2.4, "hba1c": 7.5}, gender="female", birth="1950-01-01")
    egfr = ctx.measurements["egfr"]
    assert egfr.note == "CKD-EPI 2021 from serum creatinine" and 15 < egfr.value < 30
    assert "ckd" in ctx.phenotypes and option(diabetes_plan(ctx), "metformin").status == "contraindicated"


def test_patient_context_reads_race_medications_and_averages_bp():
    ctx = context(conditions=["htn"], bp=[(150, 90), (140, 80), (130, 70), (120, 60)], black=True,
                  meds=["Simvistatin 10 MG", "Vitamin B 12 5 MG/ML"])
    assert ctx.black and ctx.measurements["sbp"].value == 130 and "3 latest" in ctx.measurements["sbp"].note
    assert [m.ingredients for m in ctx.medications] == [["simvastatin"], []]


def test_diabetes_plan_not_applicable_without_type2_diabetes():
    assert not diabetes_plan(context(conditions=["htn"], labs={"hba1c": 5.4})).applicable
    undiagnosed = diabetes_plan(context(labs={"hba1c": 7.1}))
    assert not undiagnosed.applicable and "confirm the diagnosis" in undiagnosed.message
    assert "Type 1" in diabetes_plan(context(conditions=["t1d"], labs={"hba1c": 8})).message
    dead = diabetes_plan(context(conditions=["t2d"], deceased="2020-01-01T00:00:00Z"))
    assert not dead.applicable and "deceased" in dead.message


# ---------------------------------------------------------------- hypertension

def test_pregnancy_contraindicates_ace_inhibitors_and_arbs():
    plan = hypertension_plan(context(conditions=["htn"], bp=[(150, 95)] * 3, meds=["lisinopril 10 MG Oral Tablet"],
                                     gender="female", birth="1992-01-01", pregnant=True))
    assert option(plan, "acei").status == "contraindicated" and option(plan, "arb").status == "contraindicated"
    assert "pregnancy_switch" in step_ids(plan)
    assert {o.id for o in plan.ranked[:3]} == {"dhp_ccb", "labetalol", "methyldopa"}


def test_ace_inhibitor_with_arb_is_flagged():
    plan = hypertension_plan(context(conditions=["htn"], bp=[(138, 86)] * 3, meds=["lisinopril 20 MG", "losartan 50 MG"]))
    assert "dual_ras_blockade" in step_ids(plan)
    assert option(plan, "arb").status == "avoid" and option(plan, "acei").status == "avoid"


def test_black_adult_without_ckd_starts_with_thiazide_or_ccb():
    plan = hypertension_plan(context(conditions=["htn"], bp=[(152, 96)] * 3, black=True, birth="1975-01-01"))
    assert {o.id for o in plan.ranked[:2]} == {"thiazide", "dhp_ccb"}
    assert "black_initial" in step_ids(plan)
    assert any(r.id == "acei_black_monotherapy" for r in option(plan, "acei").reasons)
    assert set(plan.combination) == {"thiazide", "dhp_ccb"}


def test_black_adult_with_ckd_gets_ace_inhibitor_first():
    plan = hypertension_plan(context(conditions=["htn", "ckd3"], bp=[(152, 96)] * 3, labs={"egfr": 45}, black=True, birth="1975-01-01"))
    assert plan.ranked[0].id == "acei"
    assert "black_initial" not in step_ids(plan)


def test_stage2_far_above_target_starts_two_drugs():
    plan = hypertension_plan(context(conditions=["htn"], bp=[(162, 101), (158, 99), (160, 100)]))
    assert plan.assessment["category"].startswith("Stage 2")
    assert {"stage2_treat", "two_drug_start"} <= step_ids(plan)
    assert plan.combination is not None and len(plan.combination) == 2
    assert any("ESH" in c.source for c in plan.citations)


def test_on_one_drug_above_target_completes_a_preferred_pair():
    plan = hypertension_plan(context(conditions=["htn", "t2d"], bp=[(142, 88)] * 3, labs={"uacr": 120},
                                     meds=["Hydrochlorothiazide 25 MG"]))
    assert "intensify_on_treatment" in step_ids(plan)
    assert plan.combination[0] == "thiazide" and plan.combination[1] in ("acei", "arb")
    assert option(plan, "thiazide").status == "continue"


def test_stage1_uses_risk_and_age():
    young = context(conditions=["htn"], bp=[(134, 84)] * 3, birth="1985-01-01")
    assert "stage1_risk_unknown" in step_ids(hypertension_plan(young))
    assert "stage1_high_calculated_risk" in step_ids(hypertension_plan(young, ascvd_risk=12.5))
    assert "stage1_low_risk" in step_ids(hypertension_plan(young, ascvd_risk=4))
    older = context(conditions=["htn"], bp=[(134, 84)] * 3, birth="1950-01-01")
    assert "stage1_older_adult" in step_ids(hypertension_plan(older))


def test_hfref_compelling_indications_and_non_dhp_ccb_avoided():
    ctx = context(conditions=["htn", "hf"], bp=[(140, 85)] * 3)
    ctx.phenotypes["hfref"] = ["test: LVEF 30%"]
    plan = hypertension_plan(ctx)
    assert plan.ranked[0].id in ("arni", "beta_blocker", "acei")
    assert option(plan, "non_dhp_ccb").status == "avoid"


def test_hypertension_not_applicable_without_diagnosis_or_bp():
    plan = hypertension_plan(context(conditions=["t2d"]))
    assert not plan.applicable and "blood pressure" in plan.message


# ---------------------------------------------------------------- knowledge files

@pytest.mark.parametrize("knowledge", [diabetes_knowledge, hypertension_knowledge])
def test_every_regimen_entry_carries_a_citation(knowledge):
    file = knowledge()
    rules = [*file.not_applicable, *file.steps, *file.targets]
    for opt in file.options:
        rules += [opt.base, *opt.indications, *opt.restrictions]
    rules += [*getattr(file, "categories", []), *getattr(file, "combinations", [])]
    assert rules and all(len(rule.citation.source) > 20 for rule in rules)
    assert file.version and file.guideline


def test_every_phenotype_and_measure_carries_a_citation():
    definitions = phenotype_definitions()
    assert all(p.citation.source for p in definitions.phenotypes)
    assert all(m.citation.source for m in definitions.measures.values())


def test_a_bad_regimen_file_names_the_field():
    bad = """
version: "x"
description: "broken"
guideline: "Test guideline"
targets: [{id: t, values: {hba1c: 7}, text: "target", citation: {source: "Some source"}}]
steps: []
options:
  - id: metformin
    label: Metformin
    classes: [no_such_class]
    agents: [metformin]
    base_score: 1
    base: {id: b, text: "base reason", citation: {source: "Some source"}}
"""
    with pytest.raises(KnowledgeError, match="no_such_class"):
        parse_knowledge(bad, RegimenFile, "bad.yaml")
    with pytest.raises(KnowledgeError, match=r"bad.yaml: options.0.base_score"):
        parse_knowledge(bad.replace("base_score: 1", "base_score: high"), RegimenFile, "bad.yaml")


# ---------------------------------------------------------------- real Synthea patients

def _synthea_bundle(data_dir, name: str) -> dict:
    import json
    import zipfile

    with zipfile.ZipFile(data_dir / "synthea_fhir_r4" / "R4_SYNTHEA.zip") as archive:
        member = next(n for n in archive.namelist() if f"/{name}_" in n)
        return json.loads(archive.read(member))


@pytest.mark.data
def test_synthea_patient_with_diabetes_ascvd_and_ckd(data_dir):
    ctx = context_from_bundle(_synthea_bundle(data_dir, "Josue_Sipes"), as_of=datetime(2022, 1, 1, tzinfo=timezone.utc))
    assert {"type2_diabetes", "ascvd", "ckd", "hypertension"} <= set(ctx.phenotypes)
    diabetes = diabetes_plan(ctx)
    assert diabetes.applicable and diabetes.ranked[0].id == "sglt2i"
    assert option(diabetes, "metformin").status == "continue"
    assert any(r.id == "metformin_continue_30_45" for r in option(diabetes, "metformin").restrictions)
    hypertension = hypertension_plan(ctx)
    assert hypertension.ranked[0].id == "acei" and hypertension.assessment["category"].startswith("Stage 2")
    assert hypertension.combination == ["thiazide", "acei"]


@pytest.mark.data
def test_synthea_patient_above_target_without_treatment(data_dir):
    plan = diabetes_plan(context_from_bundle(_synthea_bundle(data_dir, "Emery_Purdy"), as_of=datetime(2022, 1, 1, tzinfo=timezone.utc)))
    assert plan.applicable and "intensify" in step_ids(plan)
    assert plan.current_therapy == [] and plan.ranked[0].status == "recommended"
