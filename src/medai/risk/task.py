"""From stored records to NEWS2 inputs and a Prediction."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection

from medai.core.prediction import ModelIdentity, Prediction, hash_inputs
from medai.risk.news2 import News2Scorer
from medai.store.clinical import observation_series

TEMPERATURE_CODES = ("8310-5", "8331-1")


def latest_vitals(connection: Connection, patient_id: str, now: datetime | None = None,
                  max_age: timedelta = timedelta(hours=24), scorer: News2Scorer | None = None) -> dict[str, float | None]:
    """The most recent value of each NEWS2 parameter measured within ``max_age`` before ``now``."""
    scorer = scorer or News2Scorer().fit()
    now = now or datetime.now(timezone.utc)
    codes = {p.loinc: name for name, p in scorer.table_.parameters.items()}
    codes.update({code: "temperature" for code in TEMPERATURE_CODES})
    row: dict[str, float | None] = {name: None for name in scorer.table_.parameters}
    row["measured_at"] = None
    for item in observation_series(connection, patient_id, list(codes), since=now - max_age):
        effective = item["effective"] if item["effective"].tzinfo else item["effective"].replace(tzinfo=timezone.utc)
        if effective <= now:
            row[codes[item["loinc"]]] = item["value"]
            row["measured_at"] = effective.isoformat()
    return row


def news2_prediction(vitals: dict[str, float | None], scorer: News2Scorer, model: ModelIdentity,
                     patient_id: str | None) -> Prediction | None:
    """A NEWS2 prediction for a set of vitals, or None when too few parameters were measured."""
    values = {name: vitals.get(name) for name in scorer.table_.parameters}
    total = scorer.score(values)
    if total != total:  # NaN: not enough parameters
        return None
    response = scorer.response(values)
    return Prediction(patient_id=patient_id, model=model, value=total, threshold=5.0,
                      label=f"NEWS2 {total:g}: {response.risk} clinical risk", explanation=scorer.explain(values),
                      input_hash=hash_inputs(vitals))
