"""Order review as CDS Hooks 2.0 cards: spec shape, valid R4 suggestions, override reasons, and clear messages for
missing labs, implausible values and unknown drugs (never a silent default dose)."""

from __future__ import annotations

import pytest

from medai.core.fhir import validate_resource
from medai.treatment import cards
from medai.treatment.genotypes import read_genotype, warfarin_genotypes
from medai.treatment.order_inputs import patient_data
from medai.treatment.orders import draft_orders, review_orders
from tests.treatment import order_fixtures as f


def check_card(card: dict) -> None:
    """The CDS Hooks 2.0 card shape; every create/update carries a valid R4 MedicationRequest."""
    assert {"uuid", "summary", "indicator", "source", "detail"} <= set(card)
    assert card["indicator"] in {"info", "warning", "critical"} and len(card["summary"]) <= 140
    assert card["source"]["label"].startswith("medai treatment")
    for suggestion in card.get("suggestions", []):
        assert card["selectionBehavior"] == "at-most-one"
        assert suggestion["label"] and suggestion["uuid"] and isinstance(suggestion["isRecommended"], bool)
        for action in suggestion["actions"]:
            assert action["type"] in {"create", "update", "delete"} and action["description"]
            if action["type"] == "delete":
                assert action["resourceId"].startswith("MedicationRequest/")
            else:
                assert validate_resource(action["resource"]) == "MedicationRequest"
    for reason in card.get("overrideReasons", []):
        assert {"system", "code", "display"} <= set(reason)


def review(resources: list[dict], *orders: dict, selections=None):
    pid = resources[0]["id"]
    return review_orders(patient_data(resources, pid), list(orders), selections)


def by_kind(result, kind: str) -> list[cards.Recommendation]:
    return [r for r in result.recommendations if r.kind == kind]


@pytest.fixture
def rita() -> list[dict]:
    """80-year-old woman, creatinine 2.5 mg/dL (eGFR ~19, CrCl ~15), on lisinopril."""
    return f.renal_patient()


def test_renal_adjustment_is_an_update_of_the_draft_order(rita):
    draft = f.order(rita[0]["id"], "dabigatran 150 MG Oral Capsule", 150, oid="d1")
    result = review(rita, draft)
    [renal] = by_kind(result, "renal")
    assert renal.indicator == "warning" and "75 mg q12h" in renal.summary and renal.citations
    [card] = result.cards()
    check_card(card)
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "update"
    resource = action["resource"]
    assert resource["id"] == "d1" and resource["status"] == "draft" and resource["intent"] == "order"
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 75
    assert "PRADAXA" in card["detail"] and "**Evidence:**" in card["detail"] and "**Limits:**" in card["detail"]
    assert {r["code"] for r in card["overrideReasons"]} >= {"dialysis-dosing-by-levels", "benefit-outweighs-risk",
                                                            "already-monitoring", "not-clinically-relevant"}


def test_contraindicated_drug_is_critical_with_a_delete_and_alternatives(rita):
    result = review(rita, f.order(rita[0]["id"], "metformin 1000 MG Oral Tablet", 1000, oid="m1"))
    [card] = result.cards()
    check_card(card)
    assert card["indicator"] == "critical" and "contraindicated" in card["summary"]
    assert card["suggestions"][0]["actions"][0] == {"type": "delete", "resourceId": "MedicationRequest/m1",
                                                    "description": "Remove MedicationRequest/m1 from the orders being signed"}
    assert "Alternatives:" in card["detail"]


def test_no_recent_creatinine_means_no_adjustment_and_says_so(rita):
    pid = rita[0]["id"]
    stale = [r for r in rita if r.get("code", {}).get("coding", [{}])[0].get("code") != "2160-0"] + [f.creatinine(pid, 2.5, days_ago=200)]
    result = review(stale, f.order(pid, "dabigatran 150 MG Oral Capsule", 150))
    [renal] = by_kind(result, "renal")
    assert renal.indicator == "info" and not renal.suggestions
    assert renal.summary == "No renal adjustment for dabigatran: no creatinine in the last 90 days"
    assert any("older than 90 days" in line for line in renal.limits)
    check_card(result.cards()[0])


def test_implausible_creatinine_is_named_and_no_dose_is_proposed(rita):
    pid = rita[0]["id"]
    odd = [r for r in rita if r.get("code", {}).get("coding", [{}])[0].get("code") != "2160-0"] + [f.creatinine(pid, 0.05)]
    [renal] = by_kind(review(odd, f.order(pid, "dabigatran 150 MG", 150)), "renal")
    assert renal.indicator == "warning" and not renal.suggestions
    assert "creatinine_mg_dl: 0.05 is outside the plausible adult range" in renal.summary


def test_impossible_lab_is_set_aside_with_a_message(rita):
    pid = rita[0]["id"]
    result = review(rita + [f.creatinine(pid, 95, days_ago=0.1)], f.order(pid, "dabigatran 150 MG", 150))
    [data] = by_kind(result, "data")
    assert data.indicator == "warning" and "impossible" in " ".join(data.reasons)
    assert "75 mg q12h" in by_kind(result, "renal")[0].summary  # the earlier, plausible creatinine is used


def test_unknown_drug_gets_a_clear_message_not_a_dose(rita):
    result = review(rita, f.order(rita[0]["id"], "unobtainium 5 MG", 5))
    [rec] = result.recommendations
    assert rec.kind == "unrecognised" and rec.indicator == "warning" and not rec.suggestions
    assert "does not recognise 'unobtainium 5 MG'" in rec.summary and "no dose is proposed" in rec.reasons[0]


def test_interactions_one_card_per_pair_with_severity(rita):
    pid = rita[0]["id"]
    result = review(rita, f.order(pid, "losartan 50 MG Oral Tablet", 50, period=24),
                    f.order(pid, "sacubitril / valsartan 49/51 MG", 1, unit="{tbl}", oid="s1"))
    found = {(r.indicator, r.summary.split(":")[0]) for r in by_kind(result, "interaction")}
    assert ("warning", "Major interaction") in found and ("critical", "Contraindicated interaction") in found
    acei_arb = next(r for r in by_kind(result, "interaction") if "lisinopril + losartan" in r.summary)
    assert any("Do not combine an ACE inhibitor with an ARB" in line for line in acei_arb.reasons) and acei_arb.citations
    contraindicated = next(c for c in result.cards() if c["indicator"] == "critical")
    check_card(contraindicated)
    assert contraindicated["suggestions"][0]["actions"][0]["resourceId"] == "MedicationRequest/s1"


def test_order_select_reviews_only_the_selections(rita):
    pid = rita[0]["id"]
    orders = [f.order(pid, "dabigatran 150 MG", 150, oid="a"), f.order(pid, "metformin 1000 MG", 1000, oid="b")]
    result = review(rita, *orders, selections=["MedicationRequest/b"])
    assert {r.order for r in result.recommendations} == {"metformin 1000 MG"}


def test_dialysis_means_no_renal_rule(rita):
    pid = rita[0]["id"]
    dialysis = {"resourceType": "Condition", "id": "c-dialysis", "subject": {"reference": f"Patient/{pid}"},
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z99.2", "display": "Dependence on renal dialysis"}]}}
    [renal] = by_kind(review(rita + [dialysis], f.order(pid, "dabigatran 150 MG", 150)), "renal")
    assert renal.indicator == "info" and not renal.suggestions and "dialysis" in renal.summary.lower()


@pytest.mark.parametrize(("gene", "text", "expected"), [
    ("VKORC1", "VKORC1 rs9923231 C/T", ("vkorc1", "A/G")), ("VKORC1", "VKORC1 rs9923231 T/T", ("vkorc1", "A/A")),
    ("VKORC1", "VKORC1 rs9923231 C/C", ("vkorc1", "G/G")), ("VKORC1", "VKORC1 -1639G>A A/G", ("vkorc1", "A/G")),
    ("CYP2C9", "CYP2C9 *1/*3", ("cyp2c9", "*1/*3")), ("", "CYP2C9*2/*3", ("cyp2c9", "*2/*3")),
    ("CYP4F2", "CYP4F2 rs2108622 T/C", ("cyp4f2", "C/T")), ("CYP2C18", "rs12777823 G/A", ("rs12777823", "A/G")),
    ("BRCA1", "BRCA1 c.68_69del", None),
])
def test_genotype_conventions(gene, text, expected):
    assert read_genotype(gene, text) == expected


def test_unreadable_genotype_is_reported_not_guessed():
    found = warfarin_genotypes([f.genotype("p", "CYP2C9", "HGNC:2623", "CYP2C9 unknown call")])
    assert "cyp2c9" not in found.values and "could not be read" in found.problems[0]


def test_warfarin_order_gets_the_predicted_dose_with_cpic_notes(rita):
    pid = rita[0]["id"]
    resources = rita + [f.genotype(pid, "CYP2C9", "HGNC:2623", "CYP2C9 *1/*3"),
                        f.genotype(pid, "VKORC1", "HGNC:23663", "VKORC1 rs9923231 T/T")]
    result = review(resources, f.order(pid, "warfarin sodium 5 MG Oral Tablet", 5, period=24, oid="w1"))
    [warfarin] = by_kind(result, "warfarin")
    assert warfarin.summary.startswith("Warfarin: predicted") and "IWPC PG" in warfarin.summary
    assert any(line.startswith("CPIC: CYP2C9 intermediate metabolizer") for line in warfarin.reasons)
    assert any("Factors:" in line for line in warfarin.reasons) and any("Warfarin Pharmacogenetics Consortium" in c for c in warfarin.citations)
    weekly = warfarin.details["predicted_weekly_dose_mg"]
    low, high = warfarin.details["interval_mg"]
    assert low <= weekly <= high < 35  # sensitive genotypes: well below 5 mg/day
    [suggestion] = warfarin.suggestions
    dose = suggestion.resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"]
    assert suggestion.action == "update" and dose == pytest.approx(round(weekly / 7 * 2) / 2)
    [prediction] = result.predictions
    assert prediction.model.model_id == "warfarin-dose" and prediction.value == weekly and prediction.patient_id == pid


def test_warfarin_without_weight_is_not_predicted(rita):
    pid = rita[0]["id"]
    no_weight = [r for r in rita if r.get("code", {}).get("coding", [{}])[0].get("code") != "29463-7"]
    result = review(no_weight, f.order(pid, "warfarin 5 MG", 5, period=24))
    [warfarin] = by_kind(result, "warfarin")
    assert warfarin.indicator == "warning" and not warfarin.suggestions and not result.predictions
    assert "body weight" in warfarin.summary


def test_inr_titration_when_already_on_warfarin(rita):
    pid = rita[0]["id"]
    resources = rita + [f.order(pid, "warfarin 5 MG tablet", 5, period=24, status="active"),
                        f.observation(pid, "6301-6", 4.2, "{INR}", 5, "INR")]
    [step] = by_kind(review(resources, f.order(pid, "warfarin 5 MG tablet", 5, period=24)), "warfarin-titration")
    assert step.summary.startswith("INR 4.2") and step.details["new_weekly_dose_mg"] < 35 and step.indicator == "warning"


def test_vancomycin_with_levels_gets_a_bayesian_dose(rita):
    pid = rita[0]["id"]
    resources = rita + [f.administration(pid, 30, 1000), f.administration(pid, 18, 1000), f.administration(pid, 6, 1000),
                        f.observation(pid, "4092-3", 24.0, "mg/L", 6.2, "Vancomycin trough")]
    result = review(resources, f.order(pid, "vancomycin 1 g IV", 1000, route="intravenous", oid="v1"))
    [vanco] = by_kind(result, "vancomycin")
    assert "Bayesian MAP from 1 level(s)" in vanco.summary and "AUC24" in vanco.summary and "trough" in vanco.summary
    assert vanco.details["estimate"]["levels_used"] == 1 and vanco.suggestions[0].action == "update"
    [prediction] = result.predictions
    assert prediction.model.model_id == "vancomycin-pk" and len(prediction.model.weights_sha256) == 64
    check_card(cards.to_card(vanco))


def test_vancomycin_without_creatinine_says_why(rita):
    pid = rita[0]["id"]
    no_creatinine = [r for r in rita if r.get("code", {}).get("coding", [{}])[0].get("code") != "2160-0"]
    [vanco] = by_kind(review(no_creatinine, f.order(pid, "vancomycin 1 g IV", 1000)), "vancomycin")
    assert vanco.indicator == "warning" and not vanco.suggestions and "no creatinine in the last 90 days" in vanco.summary


def test_quiet_recommendations_stay_off_the_ehr_and_summaries_fit():
    pid = "p-normal"
    resources = [f.patient(pid, birth="1980-01-01"), f.creatinine(pid, 0.8), f.weight(pid, 80)]
    result = review(resources, f.order(pid, "dabigatran 150 MG", 150))
    assert [r.quiet for r in result.recommendations] == [True] and result.cards() == []
    long = cards.Recommendation(kind="renal", indicator="info", summary="x" * 300)
    assert len(cards.to_card(long)["summary"]) == 140


def test_draft_orders_reads_the_bundle():
    bundle = f.searchset([f.order("p", "dabigatran 150 MG", 150), {"resourceType": "ServiceRequest", "id": "s"}])
    assert [o["resourceType"] for o in draft_orders(bundle)] == ["MedicationRequest"]
    with pytest.raises(Exception, match="expected a FHIR Bundle"):
        draft_orders({"resourceType": "MedicationRequest"})


@pytest.mark.data
def test_synthea_patient_orders_are_reviewed(data_dir):
    from datetime import datetime, timezone

    from medai.treatment.order_inputs import resources_from_bundle
    from tests.treatment.test_regimens import _synthea_bundle

    resources = resources_from_bundle(_synthea_bundle(data_dir, "Josue_Sipes"), "bundle")
    pid = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    data = patient_data(resources, pid, datetime(2021, 4, 1, tzinfo=timezone.utc))  # a creatinine on 2021-03-13
    result = review_orders(data, [f.order(pid, "metformin 1000 MG Oral Tablet", 1000, oid="m"),
                                  f.order(pid, "warfarin sodium 5 MG Oral Tablet", 5, period=24, oid="w")])
    assert not data.problems
    [renal] = by_kind(result, "renal")
    assert renal.details["status"] != "not-assessed" and renal.details["kidney"]["egfr"] > 0
    assert by_kind(result, "warfarin") and [p.model.model_id for p in result.predictions] == ["warfarin-dose"]
    for card in result.cards():
        check_card(card)
