"""``medai export``: stored resources and predictions as Bulk Data NDJSON with a manifest, audited."""

import json

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from medai.cli.export import export, export_database
from medai.core.fhir.ndjson import read_ndjson
from medai.core.prediction import ModelIdentity, Prediction
from medai.explain.types import Explanation
from medai.service.predictions import record_prediction
from medai.store.accounts import Principal
from medai.store.db import make_engine, migrate
from medai.store.ingest import ingest_bundle
from medai.store.schema import audit_log
from tests.conftest import make_bundle

runner = CliRunner()


def _database(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    bundles = [make_bundle(hours=2), make_bundle(hours=1)]
    with engine.begin() as connection:
        for bundle in bundles:
            ingest_bundle(connection, bundle)
    patient = bundles[0]["entry"][0]["resource"]["id"]
    identity = ModelIdentity(model_id="readmission-diabetes", model_version="1.0.0", weights_sha256="ab" * 32)
    prediction = Prediction(patient_id=patient, model=identity, value=0.31, probability=0.31, threshold=0.2,
                            label="30-day readmission risk 31% (high)", input_hash="cd" * 32,
                            explanation=Explanation(method="lightgbm-contributions", summary="two earlier inpatient stays"))
    record_prediction(engine, Principal("clinician", "clinician"), prediction, action="predict:readmission")
    return engine, url, patient, prediction


def test_export_writes_every_stored_resource_and_the_prediction(tmp_path):
    engine, url, patient, prediction = _database(tmp_path)
    app = typer.Typer()
    app.command()(export)
    result = runner.invoke(app, [str(tmp_path / "out"), "--database-url", url])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    counts = {entry["type"]: entry["count"] for entry in manifest["output"]}
    assert counts == {"Patient": 2, "Condition": 2, "MedicationRequest": 2, "Observation": 15, "RiskAssessment": 1}
    risk = next(read_ndjson(tmp_path / "out", types=["RiskAssessment"]))
    assert risk["id"] == prediction.id and risk["subject"]["reference"] == f"Patient/{patient}"
    assert risk["prediction"][0]["probabilityDecimal"] == 0.31 and "readmission-diabetes 1.0.0" in risk["method"]["text"]
    with engine.connect() as connection:
        actions = [row.action for row in connection.execute(select(audit_log))]
    assert "cli:export" in actions


def test_patient_and_type_filters(tmp_path):
    engine, _, patient, _ = _database(tmp_path)
    manifest = export_database(engine, tmp_path / "one", types=["Patient", "Observation"], patient=patient)
    assert {e["type"]: e["count"] for e in manifest["output"]} == {"Patient": 1, "Observation": 10}
    assert "patient=" in manifest["request"] and "_type=Patient,Observation" in manifest["request"]
    assert all(r["subject"]["reference"].endswith(patient) for r in read_ndjson(tmp_path / "one", types=["Observation"]))
