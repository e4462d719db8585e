"""The learned warfarin model: estimator contract, learning a genotype effect, JSON round trip, shipped package."""

import inspect

import numpy as np
import pytest

from medai.treatment.warfarin.features import FEATURE_NAMES, feature_matrix
from medai.treatment.warfarin.model import WarfarinDoseModel
from medai.treatment.warfarin.patient import WarfarinPatient
from medai.treatment.warfarin.predict import load_shipped_model, recommend


def _cohort(n: int, seed: int = 0) -> tuple[list[WarfarinPatient], np.ndarray]:
    rng = np.random.default_rng(seed)
    patients, doses = [], []
    for _ in range(n):
        vkorc1 = rng.choice(["G/G", "A/G", "A/A", None])
        cyp2c9 = rng.choice(["*1/*1", "*1/*2", "*1/*3"])
        decade, weight = int(rng.integers(3, 9)), float(rng.uniform(50, 110))
        sqrt = 7.5 - 0.25 * decade + 0.012 * weight - {"G/G": 0, "A/G": 0.9, "A/A": 1.7, None: 0.5}[vkorc1] \
            - {"*1/*1": 0, "*1/*2": 0.5, "*1/*3": 0.9}[cyp2c9] + rng.normal(0, 0.3)
        patients.append(WarfarinPatient(age_decade=decade, height_cm=170, weight_kg=weight, race="white",
                                        vkorc1=vkorc1, cyp2c9=cyp2c9))
        doses.append(max(sqrt, 1.5) ** 2)
    return patients, np.array(doses)


@pytest.fixture(scope="module")
def fitted():
    patients, doses = _cohort(400)
    return WarfarinDoseModel(n_estimators=150, learning_rate=0.1, n_folds=2, n_jobs=1).fit(feature_matrix(patients), doses)


def test_constructor_only_stores_parameters():
    params = inspect.signature(WarfarinDoseModel).parameters
    model = WarfarinDoseModel(num_leaves=5)
    assert all(getattr(model, name) == p.default or name == "num_leaves" for name, p in params.items())
    assert not [k for k in vars(model) if k.endswith("_")]


def test_fit_returns_self_and_learns_the_vkorc1_effect(fitted):
    patients, doses = _cohort(200, seed=1)
    predicted = fitted.predict(feature_matrix(patients))
    assert np.mean(np.abs(predicted - doses) <= 0.2 * doses) > 0.6
    gg, aa = (feature_matrix([WarfarinPatient(age_decade=6, height_cm=170, weight_kg=80, vkorc1=g, cyp2c9="*1/*1")])
              for g in ("G/G", "A/A"))
    assert fitted.predict(aa)[0] < 0.75 * fitted.predict(gg)[0]


def test_interval_brackets_the_prediction_and_explains_factors(fitted):
    X = feature_matrix([WarfarinPatient(age_decade=5, height_cm=170, weight_kg=90, vkorc1="A/A", cyp2c9="*1/*3")])
    low, high = fitted.predict_interval(X)
    assert low[0] < fitted.predict(X)[0] < high[0]
    factors = fitted.explain(X)[0]
    assert factors[0].factor in ("VKORC1 genotype", "CYP2C9 genotype") and factors[0].percent < 0


def test_json_round_trip_is_exact_and_checks_features(fitted):
    X = feature_matrix(_cohort(20, seed=2)[0])
    text = fitted.to_json()
    assert np.allclose(WarfarinDoseModel.from_json(text).predict(X), fitted.predict(X))
    with pytest.raises(ValueError, match="different feature set"):
        WarfarinDoseModel.from_json(text.replace(FEATURE_NAMES[0], "renamed"))


def test_fit_rejects_bad_doses():
    with pytest.raises(ValueError, match="positive"):
        WarfarinDoseModel(n_folds=2).fit(np.zeros((3, len(FEATURE_NAMES))), np.array([1.0, 0.0, 2.0]))


def test_shipped_package_recommendation():
    loaded = load_shipped_model()
    assert loaded.identity["model_id"] == "warfarin-dose"
    patient = WarfarinPatient(patient_id="p1", age_decade=7, height_cm=165, weight_kg=70, sex="female", race="white",
                              vkorc1="A/A", cyp2c9="*1/*3")
    rec = recommend(patient, loaded)
    low, high = rec.interval_mg
    assert 5 < rec.predicted_weekly_dose_mg < 30 and low < rec.predicted_weekly_dose_mg < high
    assert rec.iwpc_pharmacogenetic_mg == pytest.approx(
        (5.6044 - 0.2614 * 7 + 0.0087 * 165 + 0.0128 * 70 - 1.6974 - 0.9357) ** 2, abs=0.1)
    assert any(f.factor == "VKORC1 genotype" and f.percent < 0 for f in rec.factors)
    assert rec.cpic.label_daily_dose_range_mg == (0.5, 2)
    assert rec.to_dict()["factors"][0]["percent"] != 0


def test_missing_genotypes_still_predict_with_the_unknown_route():
    rec = recommend(WarfarinPatient(age_decade=6, race="asian"))
    assert rec.predicted_weekly_dose_mg > 0 and rec.iwpc_pharmacogenetic_mg is None
    assert any("not computed" in note for note in rec.notes)
