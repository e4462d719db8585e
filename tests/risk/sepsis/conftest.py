"""Small synthetic ICU stays and a tiny trained sepsis model, built in the tests."""

from __future__ import annotations

import numpy as np
import pytest

from medai.datasets.physionet2019 import COLUMNS, PatientStay
from medai.risk.sepsis.alerting import AlertPolicy
from medai.risk.sepsis.dataset import build_table
from medai.risk.sepsis.lgbm import SepsisLightGBM
from medai.risk.sepsis.model import SepsisModel, fit_calibration

COL = {name: i for i, name in enumerate(COLUMNS)}


def synthetic_stay(patient_id: str, hours: int, septic: bool, rng: np.random.Generator) -> PatientStay:
    """Hourly vitals every hour, lactate and WBC every 6 h; septic stays deteriorate towards the end."""
    values = np.full((hours, len(COLUMNS)), np.nan)
    drift = np.clip(np.arange(hours) - (hours - 20), 0, None) / 20 if septic else np.zeros(hours)
    values[:, COL["HR"]] = 80 + 40 * drift + rng.normal(0, 4, hours)
    values[:, COL["Resp"]] = 16 + 10 * drift + rng.normal(0, 1.5, hours)
    values[:, COL["Temp"]] = 37 + 1.8 * drift + rng.normal(0, 0.2, hours)
    values[:, COL["SBP"]] = 125 - 35 * drift + rng.normal(0, 5, hours)
    values[:, COL["MAP"]] = 85 - 20 * drift + rng.normal(0, 4, hours)
    values[:, COL["O2Sat"]] = 97 - 4 * drift + rng.normal(0, 0.8, hours)
    labs = np.arange(hours) % 6 == 0
    values[labs, COL["Lactate"]] = (1.2 + 3 * drift + rng.normal(0, 0.2, hours))[labs]
    values[labs, COL["WBC"]] = (8 + 8 * drift + rng.normal(0, 1, hours))[labs]
    values[rng.random(hours) < 0.1, COL["Temp"]] = np.nan
    values[:, COL["Age"]], values[:, COL["Gender"]] = rng.integers(30, 90), rng.integers(0, 2)
    values[:, COL["Unit1"]], values[:, COL["Unit2"]], values[:, COL["HospAdmTime"]] = 1, 0, -5
    values[:, COL["ICULOS"]] = np.arange(1, hours + 1)
    labels = np.zeros(hours, dtype=np.int8)
    if septic:
        labels[hours - 14:] = 1
    return PatientStay(patient_id, values, list(COLUMNS), labels)


@pytest.fixture(scope="session")
def synthetic_stays() -> list[PatientStay]:
    rng = np.random.default_rng(5)
    return [synthetic_stay(f"p{i:03d}", int(rng.integers(30, 60)), i % 3 == 0, rng) for i in range(90)]


@pytest.fixture(scope="session")
def tiny_model(synthetic_stays) -> SepsisModel:
    """A small LightGBM sepsis model trained on the synthetic stays (seconds)."""
    table = build_table(synthetic_stays[:60], n_jobs=1)
    held = build_table(synthetic_stays[60:], n_jobs=1)
    lgbm = SepsisLightGBM(n_estimators=40, learning_rate=0.1, num_leaves=7, min_child_samples=5, early_stopping_rounds=10,
                          n_jobs=1).fit(table.X, table.y, held.X, held.y, log_every=0)
    calibration = fit_calibration(lgbm.predict_proba(held.X), held.y)
    return SepsisModel(lgbm, calibration, AlertPolicy(threshold=0.3, suppression_hours=6, escalation_delta=0.2))


@pytest.fixture(scope="session")
def blended_model(tiny_model, synthetic_stays, tmp_path_factory):
    """The tiny LightGBM blended with a tiny GRU whose single step runs on onnxruntime."""
    from medai.risk.sepsis.gru import SepsisGRU
    from medai.risk.sepsis.sequence import GRUStream

    folder = tmp_path_factory.mktemp("gru")
    gru = SepsisGRU(hidden_size=8, num_layers=1, epochs=2, patience=1, seed=0).fit(synthetic_stays[:60], synthetic_stays[60:])
    gru.save(folder)
    return SepsisModel(tiny_model.lgbm, tiny_model.calibration, tiny_model.policy,
                       gru=GRUStream.from_dir(folder, backend="onnx"), gru_weight=0.3), folder
