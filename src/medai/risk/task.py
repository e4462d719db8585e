"""From stored records to NEWS2 inputs and a Prediction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection

from medai.core.prediction import ModelIdentity, Prediction, hash_inputs
from medai.risk.news2 import News2Scorer
from medai.store.clinical import observation_series

TEMPERATURE_CODES = ("8310-5", "8331-1")


def news2_codes(scorer: News2Scorer) -> dict[str, str]:
    """LOINC code -> NEWS2 parameter name (both temperature codes included)."""
    codes = {p.loinc: name for name, p in scorer.table_.parameters.items()}
    codes.update({code: "temperature" for code in TEMPERATURE_CODES})
    return codes


def latest_parameters(measurements: Iterable[tuple[str | None, datetime, float | None]],
                      scorer: News2Scorer) -> dict[str, float | None]:
    """The latest value of each NEWS2 parameter among (LOINC, time, value) measurements in any order."""
    codes = news2_codes(scorer)
    latest: dict[str, tuple[datetime, float]] = {}
    for loinc, when, value in measurements:
        name = codes.get(loinc or "")
        if name and value is not None and (name not in latest or when >= latest[name][0]):
            latest[name] = (when, value)
    return {name: latest[name][1] if name in latest else None for name in scorer.table_.parameters}


def latest_vitals(connection: Connection, patient_id: str, now: datetime | None = None,
                  max_age: timedelta = timedelta(hours=24), scorer: News2Scorer | None = None) -> dict[str, float | None]:
    """The most recent value of each NEWS2 parameter measured within ``max_age`` before ``now``."""
    scorer = scorer or News2Scorer().fit()
    now = now or datetime.now(timezone.utc)
    measurements = []
    for item in observation_series(connection, patient_id, list(news2_codes(scorer)), since=now - max_age):
        effective = item["effective"] if item["effective"].tzinfo else item["effective"].replace(tzinfo=timezone.utc)
        if effective <= now:
            measurements.append((item["loinc"], effective, item["value"]))
    row: dict[str, float | None] = latest_parameters(measurements, scorer)
    row["measured_at"] = max(m[1] for m in measurements).isoformat() if measurements else None
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
