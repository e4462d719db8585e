"""Synthetic encounters in the Diabetes 130 layout, built in the tests (no real data needed)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from medai.datasets.diabetes130 import AGE_BANDS, MEDICATIONS, parse_csv

HEADER = ["encounter_id", "patient_nbr", "race", "gender", "age", "weight", "admission_type_id", "discharge_disposition_id",
          "admission_source_id", "time_in_hospital", "payer_code", "medical_specialty", "num_lab_procedures",
          "num_procedures", "num_medications", "number_outpatient", "number_emergency", "number_inpatient", "diag_1",
          "diag_2", "diag_3", "number_diagnoses", "max_glu_serum", "A1Cresult", *MEDICATIONS, "change", "diabetesMed",
          "readmitted"]
DIAGNOSES = ["428", "250.01", "414", "486", "38", "V57", "250.6", "584", "820", "197", "?"]


def encounter(encounter_id: int, patient: int, **values) -> dict[str, str]:
    """One encounter row with ordinary defaults; ``values`` override columns."""
    row = {"encounter_id": str(encounter_id), "patient_nbr": str(patient), "race": "Caucasian", "gender": "Female",
           "age": "[70-80)", "weight": "?", "admission_type_id": "1", "discharge_disposition_id": "1",
           "admission_source_id": "7", "time_in_hospital": "3", "payer_code": "MC", "medical_specialty": "InternalMedicine",
           "num_lab_procedures": "40", "num_procedures": "1", "num_medications": "15", "number_outpatient": "0",
           "number_emergency": "0", "number_inpatient": "0", "diag_1": "428", "diag_2": "250.01", "diag_3": "401",
           "number_diagnoses": "9", "max_glu_serum": "None", "A1Cresult": "None", **{m: "No" for m in MEDICATIONS},
           "change": "No", "diabetesMed": "Yes", "readmitted": "NO"}
    row.update({k: str(v) for k, v in values.items()})
    return row


def to_csv(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    """CSV text (CRLF line ends, as the UCI file) of ``rows`` under ``header``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def synthetic_rows(n_patients: int, seed: int = 0) -> list[dict[str, str]]:
    """Patients with 1-4 encounters each; readmission risk rises with prior admissions, heart failure and SNF discharge."""
    rng = np.random.default_rng(seed)
    rows, encounter_id = [], 1000
    for patient in range(1, n_patients + 1):
        inpatient = int(rng.poisson(0.6))
        for _ in range(int(rng.integers(1, 5))):
            encounter_id += int(rng.integers(1, 50))
            disposition = int(rng.choice([1, 1, 1, 3, 6, 11, 13]))
            diag = rng.choice(DIAGNOSES, 3)
            risk = -2.6 + 0.55 * inpatient + 0.8 * (diag[0] == "428") + 0.6 * (disposition == 3)
            chance = 1 / (1 + np.exp(-risk))
            readmitted = "NO" if disposition in (11, 13) else rng.choice(["<30", "NO"], p=[chance, 1 - chance])
            rows.append(encounter(encounter_id, patient * 7, age=rng.choice(AGE_BANDS[3:]), gender=rng.choice(["Female", "Male"]),
                                  race=rng.choice(["Caucasian", "AfricanAmerican", "?"]), discharge_disposition_id=disposition,
                                  time_in_hospital=int(rng.integers(1, 14)), number_inpatient=inpatient,
                                  number_emergency=int(rng.poisson(0.3)), diag_1=diag[0], diag_2=diag[1], diag_3=diag[2],
                                  insulin=rng.choice(["No", "Steady", "Up", "Down"]), readmitted=readmitted))
            inpatient += 1
    return rows


@pytest.fixture(scope="session")
def synthetic_table():
    """About 600 synthetic patients (~1,500 encounters) as a parsed table."""
    return parse_csv(to_csv(synthetic_rows(600)))


@pytest.fixture(scope="session")
def tiny_model(synthetic_table):
    """A ReadmissionModel trained on the synthetic encounters (small LightGBM, 2-epoch MLP)."""
    from medai.risk.readmission.model import ReadmissionLightGBM, ReadmissionModel, fit_excluded_rates
    from medai.risk.readmission.mlp import ReadmissionMLP
    from medai.risk.readmission.train import choose_blend, prepare
    from medai.risk.sepsis.model import blend, fit_calibration

    data, encoder = prepare(synthetic_table)
    y_fit, y_inner = data.labels("fit"), data.labels("inner")
    lgbm = ReadmissionLightGBM(n_estimators=60, min_child_samples=20, early_stopping_rounds=20).fit(
        data.fit.X, y_fit, data.inner.X, y_inner)
    mlp = ReadmissionMLP(max_epochs=2, batch_size=128).fit(data.fit.X, y_fit, data.inner.X, y_inner,
                                                           cardinalities=encoder.cardinalities, n_continuous=data.fit.n_numeric)
    lgbm_p, mlp_p = lgbm.predict_proba(data.inner.X), mlp.predict_proba(data.inner.X)
    weight = max(0.2, choose_blend(lgbm_p, mlp_p, y_inner))
    calibration = fit_calibration(blend(lgbm_p, mlp_p, weight, (0.0, 1.0)), y_inner)
    model = ReadmissionModel(encoder, lgbm, calibration, mlp, weight,
                             fit_excluded_rates(synthetic_table, data.y, ~data.split.validation_side), threshold=0.2)
    return model, data
