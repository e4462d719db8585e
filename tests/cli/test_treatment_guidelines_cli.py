"""``medai treatment regimen | interactions | oncology``: JSON output from bundle files, the store and CIViC exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from medai.cli.treatment_guidelines import register
from medai.core.fhir import validate_resource
from medai.store.db import make_engine, migrate
from medai.store.ingest import ingest_bundle
from medai.store.schema import audit_log
from tests.treatment.test_regimens import fhir_patient

FIXTURE = Path(__file__).parents[1] / "treatment" / "fixtures" / "civic_v2_ClinicalEvidenceSummaries.tsv"


@pytest.fixture
def app() -> typer.Typer:
    treatment = typer.Typer()
    register(treatment)
    return treatment


def run(app, *args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result, (json.loads(result.stdout) if result.exit_code == 0 else None)


def _bundle_file(tmp_path, **kwargs) -> Path:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(fhir_patient(**kwargs)))
    return path


def test_regimen_from_a_bundle_file(app, tmp_path):
    path = _bundle_file(tmp_path, conditions=["t2d", "hf", "htn"], labs={"hba1c": 8.1, "egfr": 70}, bp=[(150, 95)] * 3)
    result, out = run(app, "regimen", path)
    assert result.exit_code == 0, result.output
    diabetes, hypertension = out["plans"]
    assert diabetes["condition"] == "type 2 diabetes" and diabetes["options"][0]["id"] == "sglt2i"
    assert hypertension["condition"] == "hypertension" and hypertension["assessment"]["category"].startswith("Stage 2")
    assert diabetes["citations"] and "heart_failure" in out["patient"]["phenotypes"]
    _, only = run(app, "regimen", path, "--condition", "hypertension", "--ascvd-risk", "12")
    assert [p["condition"] for p in only["plans"]] == ["hypertension"]


def test_regimen_pregnancy_override(app, tmp_path):
    path = _bundle_file(tmp_path, conditions=["htn"], bp=[(150, 95)] * 3, gender="female", birth="1994-01-01")
    _, out = run(app, "regimen", path, "--condition", "hypertension", "--pregnant")
    options = {o["id"]: o["status"] for o in out["plans"][0]["options"]}
    assert options["acei"] == options["arb"] == "contraindicated"


def test_regimen_from_the_store_is_audited(app, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    bundle = fhir_patient(conditions=["t2d"], labs={"hba1c": 7.9, "egfr": 25}, meds=["metformin 500 MG"])
    patient_id = bundle["entry"][0]["resource"]["id"]
    with engine.begin() as connection:
        ingest_bundle(connection, bundle)
    result, out = run(app, "regimen", patient_id, "--condition", "diabetes", "--database-url", url)
    assert result.exit_code == 0, result.output
    metformin = next(o for o in out["plans"][0]["options"] if o["id"] == "metformin")
    assert metformin["status"] == "contraindicated"
    with engine.connect() as connection:
        actions = [row.action for row in connection.execute(select(audit_log.c.action, audit_log.c.patient_id))]
    assert "cli:treatment-regimen" in actions


def test_interactions_from_drugs_and_bundle(app, tmp_path):
    result, out = run(app, "interactions", "--drug", "simvastatin 40 MG", "--drug", "clarithromycin 500 MG")
    assert result.exit_code == 0 and out["counts"] == {"contraindicated": 1}
    assert out["findings"][0]["citation"]["source"]
    path = _bundle_file(tmp_path, meds=["lisinopril 10 MG", "losartan 50 MG"])
    _, from_bundle = run(app, "interactions", path, "--drug", "spironolactone 25 MG")
    assert {"acei-arb", "ras-potassium-sparing"} <= {f["id"] for f in from_bundle["findings"]}


def test_oncology_json_and_fhir(app):
    result, out = run(app, "oncology", "--variant", "BRAF V600E", "--tumour", "melanoma", "--civic", FIXTURE)
    assert result.exit_code == 0, result.output
    assert out["sensitivity"][0]["best_level"] == "A" and out["sensitivity"][0]["pmids"]
    _, resource = run(app, "oncology", "--variant", "BRAF V600E", "--tumor", "melanoma", "--civic", FIXTURE, "--fhir", "--patient", "p1")
    assert validate_resource(resource) == "DiagnosticReport"


def test_oncology_reads_a_maf(app, tmp_path):
    maf = tmp_path / "tumour.maf"
    maf.write_text("Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tHGVSp_Short\n"
                   "KRAS\t12\t25398284\tC\tT\tp.G12D\n")
    _, out = run(app, "oncology", "--maf", maf, "--tumour", "colorectal cancer", "--civic", FIXTURE)
    assert out["resistance"][0]["effect"] == "resistance" and out["sensitivity"] == []


def test_bad_input_exits_1_and_names_the_field(app, tmp_path):
    result, _ = run(app, "oncology", "--variant", "V600E", "--tumour", "melanoma", "--civic", FIXTURE)
    assert result.exit_code == 1 and "--variant 'V600E'" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                               "entry": [{"resource": {"resourceType": "Observation", "status": "final"}}]}))
    result, _ = run(app, "regimen", bad)
    assert result.exit_code == 1 and "Bundle.entry[0].resource" in result.output
    result, _ = run(app, "regimen", "no-such-patient", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code == 1 and "not found" in result.output
    result, _ = run(app, "interactions")
    assert result.exit_code != 0
