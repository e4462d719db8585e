"""Streaming sepsis monitoring: each arriving Observation updates its patient's state and risk.

Rows are hourly, as the model was trained. Observations within the current hour fill a
pending row that is scored on a copy of the committed state; when a later hour starts the
pending row is committed. Nothing about a stay is ever recomputed from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from medai.core.prediction import Prediction, hash_inputs
from medai.core.records import Observation
from medai.datasets.physionet2019 import COLUMNS
from medai.explain.types import Explanation
from medai.risk.sepsis.alerting import AlertDecision, AlertState
from medai.risk.sepsis.model import SepsisModel, SepsisStream
from medai.risk.sepsis.observations import hour_index, variable_value

_INDEX = {name: i for i, name in enumerate(COLUMNS)}


@dataclass
class RiskUpdate:
    """The new risk after one Observation, with the alert decision and the prediction to store."""

    hour: int
    probability: float
    decision: AlertDecision
    prediction: Prediction


@dataclass
class _PatientStream:
    start: datetime
    stream: SepsisStream
    alerts: AlertState
    age: float
    gender: int
    committed_hours: int = 0
    pending: np.ndarray = field(default_factory=lambda: np.full(len(COLUMNS), np.nan))


class SepsisMonitor:
    """Per-patient streaming state for every monitored patient."""

    def __init__(self, model: SepsisModel):
        self.model = model
        self._patients: dict[str, _PatientStream] = {}

    def is_monitoring(self, patient_id: str) -> bool:
        """Whether the patient already has streaming state."""
        return patient_id in self._patients

    def warm_start(self, patient_id: str, history: np.ndarray, start: datetime, age: float, gender: int) -> None:
        """Begin monitoring from stored history: every row but the last is committed, the last is the current hour."""
        patient = _PatientStream(start, self.model.stream(), self.model.policy.new_state(), age, gender)
        for row in history[:-1]:
            patient.stream.update(row)
            patient.committed_hours += 1
        if len(history):
            patient.pending = history[-1].copy()
        self._patients[patient_id] = patient

    def _patient(self, patient_id: str, when: datetime, age: float, gender: int) -> _PatientStream:
        if patient_id not in self._patients:
            self._patients[patient_id] = _PatientStream(when.replace(minute=0, second=0, microsecond=0), self.model.stream(),
                                                        self.model.policy.new_state(), age, gender)
        return self._patients[patient_id]

    def _row(self, patient: _PatientStream, values: np.ndarray, hour: int) -> np.ndarray:
        row = values.copy()
        row[_INDEX["Age"]], row[_INDEX["Gender"]], row[_INDEX["ICULOS"]] = patient.age, patient.gender, hour + 1
        return row

    def observe(self, patient_id: str, observation: Observation, age: float, gender: int) -> RiskUpdate:
        """Update the patient's state with one Observation and return the new hourly risk."""
        column, value = variable_value(observation)
        patient = self._patient(patient_id, observation.effective, age, gender)
        hour = hour_index(observation.effective, patient.start)
        if hour < patient.committed_hours:
            hour = patient.committed_hours  # a late-arriving value joins the current hour
        while patient.committed_hours < hour:  # close finished hours (empty hours carry values forward)
            patient.stream.update(self._row(patient, patient.pending, patient.committed_hours))
            patient.pending = np.full(len(COLUMNS), np.nan)
            patient.committed_hours += 1
        patient.pending[column] = value
        probability = patient.stream.peek(self._row(patient, patient.pending, hour))
        explanation: Explanation = patient.stream.explain(probability)
        decision = patient.alerts.update(probability, hour)
        identity = self.model.identity
        prediction = Prediction(patient_id=patient_id, model=identity, value=probability, probability=probability,
                                threshold=self.model.threshold, label=label_for(probability, self.model.threshold),
                                explanation=explanation, input_hash=hash_inputs({"hour": hour, "row": patient.pending.tolist()}))
        return RiskUpdate(hour, probability, decision, prediction)


def label_for(probability: float, threshold: float) -> str:
    return f"Sepsis risk {probability:.0%} ({risk_level(probability, threshold)})"


def risk_level(probability: float, threshold: float) -> str:
    """'high' at or above the operating threshold, 'moderate' above half of it, else 'low'."""
    return "high" if probability >= threshold else "moderate" if probability >= threshold / 2 else "low"
