"""A stored patient's sepsis risk, replayed from their stored Observations (for CDS calls and the UI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np
from sqlalchemy import Connection

from medai.core.prediction import Prediction, hash_inputs
from medai.core.codes import LOINC
from medai.core.records import Coding, Concept, Encounter, Observation, Patient
from medai.risk.sepsis.model import SepsisModel
from medai.risk.sepsis.monitor import label_for
from medai.risk.sepsis.observations import hourly_rows
from medai.risk.sepsis.variables import sepsis_variables
from medai.store import clinical

LOOKBACK = timedelta(days=7)


@dataclass
class RiskTimeline:
    """Hourly risk over the recent stay, alert hours, and the latest prediction with its explanation."""

    hours: list[datetime]
    risks: np.ndarray
    alerts: np.ndarray
    prediction: Prediction


def demographics(patient: Patient, now: datetime) -> tuple[float, int]:
    """(age in years, gender 1 = male / 0 = other) as the challenge encodes them."""
    age = (now.date() - patient.birth_date).days / 365.25 if isinstance(patient.birth_date, date) else 60.0
    return age, 1 if patient.gender == "male" else 0


def _observation(row: dict) -> Observation:
    effective = row["effective"] if row["effective"].tzinfo else row["effective"].replace(tzinfo=timezone.utc)
    return Observation(id="", status="final", code=Concept(codings=[Coding(system=LOINC, code=row["loinc"])]),
                       effective=effective, value=row["value"], unit=row["unit"])


def _stay_start(connection: Connection, patient_id: str, first_seen: datetime, now: datetime) -> datetime:
    """The start of the current stay (in-progress Encounter) so ICULOS counts hours since admission."""
    starts = [e.start if e.start.tzinfo else e.start.replace(tzinfo=timezone.utc)
              for e in clinical.patient_records(connection, "Encounter", patient_id)
              if isinstance(e, Encounter) and e.status == "in-progress" and e.start is not None]
    start = max(starts) if starts else first_seen
    return max(min(start, first_seen), now - LOOKBACK).replace(minute=0, second=0, microsecond=0)


@dataclass
class StoredStay:
    """A patient's recent stay rebuilt from the store as the model's hourly rows."""

    rows: np.ndarray
    start: datetime
    age: float
    gender: int


def stored_stay(connection: Connection, patient_id: str, now: datetime | None = None) -> StoredStay | None:
    """The last week of the patient's vitals and labs as hourly rows; None when nothing usable is stored."""
    now = now or datetime.now(timezone.utc)
    patient = clinical.patient_records(connection, "Patient", patient_id)
    codes = [code for variable in sepsis_variables().variables for code in variable.loinc]
    observations = [_observation(row) for row in clinical.observation_series(connection, patient_id, codes, since=now - LOOKBACK)]
    observations = [o for o in observations if o.effective <= now]
    if not patient or not observations:
        return None
    start = _stay_start(connection, patient_id, min(o.effective for o in observations), now)
    age, gender = demographics(patient[0], now)
    rows = hourly_rows(observations, start, age, gender)
    if not len(rows) or np.isnan(rows[:, :34]).all():
        return None
    return StoredStay(rows, start, age, gender)


def patient_timeline(connection: Connection, patient_id: str, model: SepsisModel, now: datetime | None = None) -> RiskTimeline | None:
    """Replay the patient's last week of vitals and labs hour by hour; None when nothing usable is stored."""
    stay = stored_stay(connection, patient_id, now)
    if stay is None:
        return None
    rows = stay.rows
    stream = model.stream()
    risks = np.array([stream.update(row) for row in rows])
    alerts = model.policy.alert_flags(risks)
    explanation = stream.explain(float(risks[-1]))
    prediction = Prediction(patient_id=patient_id, model=model.identity, value=float(risks[-1]), probability=float(risks[-1]),
                            threshold=model.threshold, label=label_for(float(risks[-1]), model.threshold), explanation=explanation,
                            input_hash=hash_inputs(np.nan_to_num(rows, nan=-1.0).round(4).tolist()))
    return RiskTimeline([stay.start + timedelta(hours=h) for h in range(len(rows))], risks, alerts, prediction)
