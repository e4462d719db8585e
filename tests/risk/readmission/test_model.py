"""The readmission model on synthetic encounters: estimators, blend, package round trip, explanations, FHIR output."""

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from medai.models import ModelCard, load_package, save_package
from medai.risk.readmission.cards import readmission_card, risk_assessment
from medai.risk.readmission.explain import FACTORS, factor_contributions
from medai.risk.readmission.features import FEATURE_NAMES
from medai.risk.readmission.model import LogisticBaseline, ReadmissionLightGBM, ReadmissionModel
from medai.risk.readmission.predict import predictions, risk_level


def _card() -> ModelCard:
    source = {"name": "synthetic", "citation": "medai tests", "licence": "CC0", "n": 10}
    return ModelCard.model_validate({
        "name": "readmission-diabetes", "version": "0.0.1", "task": "test", "summary": "test", "intended_use": "tests",
        "out_of_scope_use": [], "training_data": [source], "evaluation_data": [source],
        "metrics": [{"name": "AUROC", "value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "dataset": "synthetic", "split": "v"}],
        "limitations": ["synthetic"], "ethical_considerations": "none", "authors": ["tests"], "licence": "Apache-2.0",
        "created": datetime.now(timezone.utc).isoformat(), "medai_version": "0"})


def test_estimators_follow_the_sklearn_contract():
    lgbm = ReadmissionLightGBM(n_estimators=7, num_leaves=5)
    assert lgbm.n_estimators == 7 and not [k for k in vars(lgbm) if k.endswith("_")]
    assert not [k for k in vars(LogisticBaseline(C=0.3)) if k.endswith("_")]


def test_model_learns_the_synthetic_signal(tiny_model):
    from sklearn.metrics import roc_auc_score

    model, data = tiny_model
    p = model.predict_encoded(data.validation)
    assert ((p > 0) & (p < 1)).all()
    assert roc_auc_score(data.labels("validation"), p) > 0.6
    assert model.lgbm.explain(data.validation.X).shape == (len(p), len(FEATURE_NAMES))
    assert model.mlp.explain(data.validation.X[:5]).shape == (5, len(FEATURE_NAMES))


def test_excluded_encounters_get_their_observed_rate(tiny_model, synthetic_table):
    model, _ = tiny_model
    assert model.excluded_rates[11] == 0.0  # the synthetic data never readmits the dead
    probability, _ = model.predict_table(synthetic_table)
    died = synthetic_table["discharge_disposition_id"] == 11
    assert died.any() and (probability[died] == 0).all()


def test_package_round_trip_gives_the_same_probabilities(tiny_model, tmp_path):
    model, data = tiny_model
    files = model.save()
    model.mlp.save(tmp_path / "mlp")
    files.update({f"mlp/{n}": (tmp_path / "mlp" / n).read_bytes() for n in ("weights.safetensors", "config.json", "mlp.onnx")})
    package = save_package(tmp_path / "pkg", _card(), files)
    loaded = ReadmissionModel.from_package(load_package(package.path))
    np.testing.assert_allclose(loaded.predict_encoded(data.validation), model.predict_encoded(data.validation), atol=1e-5)
    assert loaded.identity.model_version == "0.0.1" and loaded.identity.weights_sha256 == package.weights_sha256
    assert json.loads(package.file("calibration.json").read_text())["mlp_weight"] == model.mlp_weight


def test_every_prediction_carries_explanation_and_model_version(tiny_model, synthetic_table):
    model, _ = tiny_model
    table = synthetic_table.take(np.arange(40))
    found = predictions(model, table)
    assert len(found) == 40
    for prediction, disposition in zip(found, table["discharge_disposition_id"]):
        assert prediction.model.model_id == "readmission-diabetes" and prediction.explanation.summary
        assert prediction.label.endswith(f"({risk_level(prediction.value, model)})")
        if disposition in (11, 13):
            assert "outside the model's outcome" in prediction.explanation.caveats[0]
        else:
            assert {c.feature for c in prediction.explanation.contributions} <= set(FACTORS)


def test_factor_contributions_sum_to_the_feature_contributions(tiny_model):
    model, data = tiny_model
    contributions = model.lgbm.explain(data.validation.X[:10])
    np.testing.assert_allclose(factor_contributions(contributions).sum(1), contributions.sum(1))


def test_fhir_risk_assessment_and_card(tiny_model, synthetic_table):
    model, _ = tiny_model
    prediction = predictions(model, synthetic_table.take([0]))[0]
    prediction = prediction.model_copy(update={"label": "30-day readmission risk 40% (high)"})
    resource = risk_assessment(prediction, encounter_id="1001")
    assert resource["resourceType"] == "RiskAssessment" and resource["encounter"] == {"reference": "Encounter/1001"}
    assert resource["subject"]["reference"] == f"Patient/{prediction.patient_id}"
    outcome = resource["prediction"][0]
    assert outcome["probabilityDecimal"] == pytest.approx(round(prediction.value, 4))
    assert outcome["whenRange"]["high"]["value"] == 30 and outcome["rationale"] == prediction.explanation.summary
    assert "readmission-diabetes" in resource["method"]["text"]
    card = readmission_card(prediction, encounter_id="1001")
    assert card["indicator"] == "warning" and card["suggestions"][0]["actions"][0]["resource"]["resourceType"] == "RiskAssessment"


def test_scaler_keeps_columns_constant_in_training_bounded():
    from medai.risk.readmission.mlp import InputScaler

    scaler = InputScaler().fit(np.array([[0.0, 1.0, np.nan], [0.0, 3.0, np.nan], [0.0, np.nan, np.nan]]))
    out = scaler.transform(np.array([[1.0, 2.0, 5.0]]))
    assert np.isfinite(out).all() and np.abs(out).max() < 5
    assert out.shape == (1, 3 + 2)  # two columns had missing values in training: two indicators
