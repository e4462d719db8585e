"""Scoring files in the Diabetes 130 layout: probabilities, Predictions with explanations, CSV output.

A file may hold one encounter per patient or whole histories; history features are computed from
each patient's earlier encounters *in the file* (``encounter_id`` order). The ``readmitted``
column is not needed (and not used) for scoring.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from medai.core.prediction import Prediction, hash_inputs
from medai.datasets.diabetes130 import Diabetes130Table, read_csv
from medai.risk.readmission.explain import excluded_explanation, explain_encounter
from medai.risk.readmission.features import HISTORY, NUMERIC
from medai.risk.readmission.model import MODEL_NAME, ReadmissionModel

OUTPUT_COLUMNS = ("encounter_id", "probability")
_PREVIOUS = NUMERIC.index(HISTORY[0])


def load_shipped_model(threads: int = 1) -> ReadmissionModel:
    """The installed ``readmission-diabetes`` package (hash-checked)."""
    from medai.models import default_registry

    return ReadmissionModel.from_package(default_registry().get(MODEL_NAME), threads=threads)


def risk_level(probability: float, model: ReadmissionModel) -> str:
    """'high' at or above the operating threshold, 'moderate' above the training average, else 'low'."""
    if probability >= model.threshold:
        return "high"
    return "moderate" if probability >= model.average_risk else "low"


def predictions(model: ReadmissionModel, table: Diabetes130Table) -> list[Prediction]:
    """One Prediction per encounter: calibrated probability, risk level, explanation and model identity."""
    probability, encoded = model.predict_table(table)
    contributions = model.lgbm.explain(encoded.X)
    outside = model.excluded_rates
    out = []
    for row in range(len(table)):
        p = float(probability[row])
        disposition = int(table["discharge_disposition_id"][row])
        explanation = (excluded_explanation(table, row, p) if disposition in outside else
                       explain_encounter(contributions[row], table, row, encoded.X[row, _PREVIOUS], p))
        inputs = {name: (values[row].item() if hasattr(values[row], "item") else values[row])
                  for name, values in table.columns.items()}
        out.append(Prediction(patient_id=str(table["patient_nbr"][row]), model=model.identity, value=p, probability=p,
                              threshold=model.threshold, explanation=explanation, input_hash=hash_inputs(inputs),
                              label=f"30-day readmission risk {p:.0%} ({risk_level(p, model)})"))
    return out


def write_probabilities(path: Path, encounter_ids: np.ndarray, probability: np.ndarray) -> None:
    """``encounter_id,probability`` CSV, one row per encounter in input order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        writer.writerows((int(e), f"{p:.6f}") for e, p in zip(encounter_ids, probability))


def predict_csv(model: ReadmissionModel, source: Path, out: Path, explanations: Path | None = None) -> int:
    """Score every encounter of ``source`` into ``out``; optionally write one JSON line per prediction to ``explanations``.

    Raises :class:`medai.errors.InvalidInput` (naming the column and line) on a malformed file; nothing is written then.
    """
    table = read_csv(source)
    if explanations is None:
        probability, _ = model.predict_table(table)
        write_probabilities(out, table["encounter_id"], probability)
        return len(table)
    found = predictions(model, table)
    write_probabilities(out, table["encounter_id"], np.array([p.value for p in found]))
    explanations.parent.mkdir(parents=True, exist_ok=True)
    with explanations.open("w", encoding="utf-8") as handle:
        for encounter, prediction in zip(table["encounter_id"], found):
            handle.write(json.dumps({"encounter_id": int(encounter), **prediction.model_dump(mode="json")}) + "\n")
    return len(table)
