"""``medai treatment warfarin | renal | vancomycin``: file in, exact output out, bad input named."""

import csv
import json

import pytest
from typer.testing import CliRunner

from medai.cli.treatment import treatment_app

runner = CliRunner()
COLUMNS = ["PharmGKB Subject ID", "Gender", "Race", "Ethnicity", "Age", "Height (cm)", "Weight (kg)",
           "Indication for Warfarin Treatment", "Amiodarone (Cordarone)", "Carbamazepine (Tegretol)", "Target INR",
           "Therapeutic Dose of Warfarin", "Cyp2C9 genotypes", "CYP2C9 consensus", "VKORC1 -1639 consensus",
           "VKORC1 1173 consensus", "", "", ""]


def _csv(tmp_path, rows: list[list[str]]):
    path = tmp_path / "in.csv"
    lines = [",".join(COLUMNS)] + [",".join(r + ["", "", ""]) for r in rows]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_warfarin_writes_exact_columns_and_names_bad_rows(tmp_path):
    source = _csv(tmp_path, [
        ["PA1", "male", "White", "not Hispanic or Latino", "60 - 69", "180", "90", "3", "0", "0", "2.5", "NA", "*1/*1", "*1/*1", "G/G", "NA"],
        ["PA2", "female", "Asian", "NA", "70 - 79", "155", "50", "1", "1", "NA", "NA", "NA", "NA", "NA", "NA", "T/T"],
        ["PA3", "male", "White", "NA", "60 - 69", "180", "2000", "3", "0", "0", "NA", "NA", "*1/*1", "*1/*1", "G/G", "NA"],
    ])
    out = tmp_path / "out.csv"
    result = runner.invoke(treatment_app, ["warfarin", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert "PA3:weight_kg" in "".join(result.output.split())  # rich wraps long lines anywhere
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["PharmGKB Subject ID", "predicted_weekly_dose_mg"]
    assert [r[0] for r in rows[1:]] == ["PA1", "PA2", "PA3"] and rows[3][1] == ""
    pa1, pa2 = float(rows[1][1]), float(rows[2][1])
    assert 20 < pa1 < 80 and pa2 < pa1            # older, smaller, amiodarone, VKORC1 A/A (imputed from 1173 T/T)


def test_warfarin_details_json(tmp_path):
    source = _csv(tmp_path, [["PA1", "male", "White", "NA", "50 - 59", "175", "85", "1", "0", "0", "NA", "NA",
                              "*1/*3", "*1/*3", "A/G", "NA"]])
    details = tmp_path / "details.json"
    result = runner.invoke(treatment_app, ["warfarin", "--input", str(source), "--out", str(tmp_path / "o.csv"),
                                           "--details", str(details)])
    assert result.exit_code == 0, result.output
    [item] = json.loads(details.read_text())
    assert item["patient_id"] == "PA1" and item["interval_mg"][0] < item["predicted_weekly_dose_mg"] < item["interval_mg"][1]
    assert item["cpic"]["cyp2c9_phenotype"] == "intermediate metabolizer" and item["factors"]


def test_warfarin_titrate():
    result = runner.invoke(treatment_app, ["warfarin-titrate", "--weekly-dose-mg", "35", "--inr", "1.7"])
    assert result.exit_code == 0 and json.loads(result.stdout)["new_weekly_dose_mg"] == 38.5
    bad = runner.invoke(treatment_app, ["warfarin-titrate", "--weekly-dose-mg", "35", "--inr", "2.5", "--target-low", "2.5",
                                        "--target-high", "3.5"])
    assert bad.exit_code == 1 and "target_range" in bad.output


def _bundle(creatinine: float | None) -> dict:
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1950-03-01"}},
               {"resource": {"resourceType": "Observation", "id": "w", "status": "final", "subject": {"reference": "Patient/p1"},
                             "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}, "effectiveDateTime": "2026-05-01",
                             "valueQuantity": {"value": 60, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}},
               {"resource": {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
                             "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "levetiracetam 1000 MG"},
                             "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}},
                                                    "doseAndRate": [{"doseQuantity": {"value": 1000, "unit": "mg"}}]}]}},
               {"resource": {"resourceType": "MedicationRequest", "id": "m2", "status": "active", "intent": "order",
                             "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "unobtainium"}}}]
    if creatinine is not None:
        entries.append({"resource": {"resourceType": "Observation", "id": "c", "status": "final", "subject": {"reference": "Patient/p1"},
                                     "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]}, "effectiveDateTime": "2026-05-02",
                                     "valueQuantity": {"value": creatinine, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}}})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def test_renal_bundle_to_json(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(2.2)))
    result = runner.invoke(treatment_app, ["renal", str(path)])
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.stdout)
    assert first["status"] == "adjust" and first["recommended_dose"] == "250-500 mg q12h"
    assert first["medication_request"]["resourceType"] == "MedicationRequest"
    assert second["status"] == "error" and "not in the renal dosing table" in second["message"]


def test_renal_without_creatinine_says_so(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(None)))
    first = json.loads(runner.invoke(treatment_app, ["renal", str(path)]).stdout)[0]
    assert first["status"] == "not-assessed" and "no serum creatinine" in first["message"]


def test_renal_drug_list():
    listed = json.loads(runner.invoke(treatment_app, ["renal-drugs"]).stdout)
    assert len(listed) >= 40 and all(item["citations"] for item in listed)


def test_vancomycin_json(tmp_path):
    path = tmp_path / "course.json"
    path.write_text(json.dumps({"weight_kg": 80, "crcl_ml_min": 90, "doses": [{"start_h": 12 * k, "amount_mg": 1000} for k in range(4)],
                                "levels": [{"time_h": 38.7, "concentration_mg_l": 28}, {"time_h": 47.9, "concentration_mg_l": 11}]}))
    result = runner.invoke(treatment_app, ["vancomycin", str(path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert 400 <= payload["regimen"]["auc24"] <= 600 and payload["estimate"]["levels_used"] == 2


def test_vancomycin_bad_input_exits_1_naming_the_field(tmp_path):
    path = tmp_path / "course.json"
    path.write_text(json.dumps({"weight_kg": 80, "doses": [{"start_h": 0, "amount_mg": 1000}]}))
    result = runner.invoke(treatment_app, ["vancomycin", str(path)])
    assert result.exit_code == 1 and "creatinine_mg_dl" in result.output


@pytest.mark.data
def test_warfarin_cli_on_the_real_file(tmp_path, data_dir):
    out = tmp_path / "out.csv"
    result = runner.invoke(treatment_app, ["warfarin", "--input", str(data_dir / "warfarin_iwpc" / "warfarin.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["PharmGKB Subject ID", "predicted_weekly_dose_mg"] and len(rows) == 4561
    assert all(5 < float(r[1]) < 150 for r in rows[1:])
