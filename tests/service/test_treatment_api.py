"""The /api/v1/treatment routes: thin adapters over the engines, with roles, audited reads and recorded predictions."""

from __future__ import annotations

from pathlib import Path

import pytest

from medai.store.ingest import ingest_bundle
from tests.treatment import order_fixtures as f

API = "/api/v1/treatment"
CIVIC_FIXTURE = Path(__file__).parents[1] / "treatment" / "fixtures" / "civic_v2_ClinicalEvidenceSummaries.tsv"


@pytest.fixture
def renal_patient(service) -> str:
    resources = f.renal_patient()
    pid = resources[0]["id"]
    resources += [f.genotype(pid, "CYP2C9", "HGNC:2623", "CYP2C9 *1/*1"), f.genotype(pid, "VKORC1", "HGNC:23663", "VKORC1 rs9923231 C/C")]
    with service.client.app.state.engine.begin() as connection:
        ingest_bundle(connection, f.transaction(resources))
    return pid


def post(service, path: str, body: dict, role: str = "clinician"):
    return service.client.post(f"{API}{path}", json=body, headers=service.headers(role))


def audit_log(service) -> list[dict]:
    return service.client.get("/api/audit", headers=service.headers("admin")).json()


def test_review_returns_recommendations_and_cards_and_audits_the_read(service, renal_patient):
    orders = [f.order(renal_patient, "dabigatran 150 MG", 150, oid="o1"), f.order(renal_patient, "losartan 50 MG", 50, period=24)]
    response = post(service, "/review", {"patient_id": renal_patient, "orders": orders})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {r["kind"] for r in body["recommendations"]} == {"renal", "interaction"}
    assert body["cards"][0]["suggestions"][0]["actions"][0]["resource"]["id"] == "o1"
    assert any(r["action"] == "read:treatment:review" and r["patient_id"] == renal_patient for r in audit_log(service))


def test_renal_from_values_or_from_the_store(service, renal_patient):
    order = f.order("p", "dabigatran 150 MG Oral Capsule", 150, oid="o1")
    by_values = post(service, "/renal", {"medication_request": order,
                                         "kidney": {"creatinine_mg_dl": 2.5, "age_years": 80, "sex": "female", "weight_kg": 55}})
    assert by_values.status_code == 200, by_values.text
    assert by_values.json()["recommendation"]["recommended_dose"] == "75 mg q12h"
    assert by_values.json()["card"]["suggestions"][0]["actions"][0]["type"] == "update"
    stored = post(service, "/renal", {"medication_request": order, "patient_id": renal_patient}).json()
    assert stored["recommendation"]["status"] == "adjust"
    no_lab = post(service, "/renal", {"medication_request": order, "patient_id": service.well_patient}).json()
    assert no_lab["recommendation"]["status"] == "not-assessed" and "no creatinine in the last 90 days" in no_lab["card"]["summary"]
    assert post(service, "/renal", {"medication_request": order}).status_code == 422
    unknown = post(service, "/renal", {"medication_request": f.order("p", "zorblaxin 5 MG", 5), "patient_id": renal_patient})
    assert unknown.status_code == 422 and "not in the renal dosing table" in unknown.text


def test_warfarin_dose_is_recorded_with_the_model_identity(service, renal_patient):
    fields = {"age_years": 64, "height_cm": 172, "weight_kg": 81, "sex": "male", "race": "white", "vkorc1": "A/G", "cyp2c9": "*1/*3"}
    response = post(service, "/warfarin", {"patient": fields})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interval_mg"][0] <= body["predicted_weekly_dose_mg"] <= body["interval_mg"][1]
    assert body["cpic"]["cyp2c9_phenotype"] == "intermediate metabolizer" and body["iwpc_pharmacogenetic_mg"]
    record = next(r for r in audit_log(service) if r["action"] == "predict:warfarin")
    assert record["model_id"] == "warfarin-dose" and body["prediction_id"] in record["detail"]
    stored = post(service, "/warfarin", {"patient_id": renal_patient})
    assert stored.status_code == 200 and stored.json()["cpic"]["vkorc1_sensitivity"] is not None
    implausible = post(service, "/warfarin", {"patient": {**fields, "weight_kg": 400}})
    assert implausible.status_code == 422 and "weight_kg" in implausible.text
    assert post(service, "/warfarin", {"patient": {"sex": "male"}}).status_code == 422


def test_warfarin_titration(service):
    response = post(service, "/warfarin/titration", {"current_weekly_dose_mg": 35, "inr": 1.6})
    assert response.status_code == 200 and response.json()["new_weekly_dose_mg"] > 35
    assert post(service, "/warfarin/titration", {"current_weekly_dose_mg": 35, "inr": 40}).status_code == 422


def test_vancomycin_course_is_dosed_and_recorded(service):
    course = {"weight_kg": 80, "crcl_ml_min": 70, "doses": [{"start_h": 0, "amount_mg": 1000}, {"start_h": 12, "amount_mg": 1000}],
              "levels": [{"time_h": 23.5, "concentration_mg_l": 12.0}], "patient_id": "p1"}
    response = post(service, "/vancomycin", course)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["estimate"]["levels_used"] == 1 and 400 <= body["regimen"]["auc24"] <= 600
    record = next(r for r in audit_log(service) if r["action"] == "predict:vancomycin")
    assert record["model_id"] == "vancomycin-pk" and record["patient_id"] == "p1"
    bad = post(service, "/vancomycin", {**course, "weight_kg": 5})
    assert bad.status_code == 422 and "weight_kg" in bad.text


def test_interactions_regimen_and_roles(service, renal_patient):
    response = post(service, "/interactions", {"medications": ["losartan 50 mg"], "patient_id": renal_patient})
    assert response.status_code == 200 and response.json()["findings"][0]["id"] == "acei-arb"
    assert post(service, "/interactions", {"medications": ["losartan"]}).status_code == 422
    plans = post(service, "/regimen", {"patient_id": service.well_patient, "condition": "hypertension"})
    assert plans.status_code == 200 and plans.json()["plans"][0]["condition"] == "hypertension"
    for path, body in (("/interactions", {"medications": ["a", "b"]}), ("/review", {"patient_id": "x", "orders": [{}]})):
        assert post(service, path, body, role="patient").status_code == 403
    assert post(service, "/regimen", {"patient_id": "nobody"}).status_code == 404


def test_oncology_ranks_therapies_from_civic(service, monkeypatch):
    from medai.datasets import civic
    from medai.service.routers import treatment

    monkeypatch.setattr(treatment, "civic_export", lambda _: civic.read_export(CIVIC_FIXTURE))
    response = post(service, "/oncology", {"variants": ["BRAF V600E"], "tumour": "melanoma"})
    assert response.status_code == 200, response.text
    assert response.json()["sensitivity"] and response.json()["tumour_doid"]
    bad = post(service, "/oncology", {"variants": [""], "tumour": "melanoma"})
    assert bad.status_code == 422 and "variants[0]" in bad.text


def test_oncology_without_civic_says_where_it_looked(service, monkeypatch):
    from medai.datasets.registry import DatasetNotFound
    from medai.service.routers import treatment

    def missing(_):
        raise DatasetNotFound("dataset 'civic' not found; looked in: /nowhere")

    monkeypatch.setattr(treatment, "civic_export", missing)
    response = post(service, "/oncology", {"variants": ["BRAF V600E"], "tumour": "melanoma"})
    assert response.status_code == 404 and "CIViC export is not installed" in response.text
