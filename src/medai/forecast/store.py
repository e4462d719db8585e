"""Stored forecasts: one run (model, reference date, input hash, observed history, capacity) and its quantiles.

A run and its values are written in one transaction. Forecasts are population-level (locations,
wards), never about a patient.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

import numpy as np
from sqlalchemy import Connection, Engine, insert, select

from medai.core.prediction import ModelIdentity
from medai.errors import NotFound
from medai.forecast.quantiles import QuantileForecast
from medai.store.schema import forecast_runs, forecast_values

KINDS = ("flu", "census")


@dataclass(frozen=True)
class StoredRun:
    """A stored forecast with what the charts need beside it."""

    id: str
    kind: str
    created: datetime
    identity: ModelIdentity
    input_hash: str
    source: str | None
    forecast: QuantileForecast
    observed: dict[str, list[tuple[str, float | None]]]
    capacity: dict[str, float]
    notes: list[str]


def save_run(engine: Engine, kind: str, forecast: QuantileForecast, identity: ModelIdentity, input_hash: str,
             observed: dict[str, list[tuple[str, float | None]]], capacity: dict[str, float] | None = None,
             source: str | None = None, notes: list[str] | None = None) -> str:
    """Store a forecast run and every quantile in one transaction; returns the run id."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    run_id = str(uuid.uuid4())
    detail = {"step_days": forecast.step_days, "horizons": list(forecast.horizons), "levels": list(forecast.levels),
              "series": list(forecast.ids), "observed": observed, "capacity": capacity or {}, "notes": notes or [],
              "model_name": forecast.model}
    rows = [{"run_id": run_id, "series": series, "horizon": horizon, "level": level,
             "target_date": forecast.target_date(horizon), "value": float(forecast.values[i, h, q])}
            for i, series in enumerate(forecast.ids) for h, horizon in enumerate(forecast.horizons)
            for q, level in enumerate(forecast.levels)]
    with engine.begin() as connection:
        connection.execute(insert(forecast_runs), {
            "id": run_id, "kind": kind, "model_id": identity.model_id, "model_version": identity.model_version,
            "weights_sha256": identity.weights_sha256, "reference_date": forecast.reference_date,
            "created": datetime.now(timezone.utc), "input_hash": input_hash, "source": source, "detail": detail})
        if rows:
            connection.execute(insert(forecast_values), rows)
    return run_id


def list_runs(connection: Connection, kind: str | None = None, limit: int = 50) -> list[dict]:
    """The newest runs first: id, kind, model, reference date, created, source."""
    query = select(forecast_runs.c.id, forecast_runs.c.kind, forecast_runs.c.model_id, forecast_runs.c.model_version,
                   forecast_runs.c.reference_date, forecast_runs.c.created, forecast_runs.c.source, forecast_runs.c.input_hash)
    if kind:
        query = query.where(forecast_runs.c.kind == kind)
    query = query.order_by(forecast_runs.c.created.desc()).limit(limit)
    return [dict(row._mapping) for row in connection.execute(query)]


def latest_run_id(connection: Connection, kind: str) -> str:
    """The id of the newest run of ``kind`` (``NotFound`` when there is none)."""
    runs = list_runs(connection, kind, limit=1)
    if not runs:
        raise NotFound(f"{kind} forecast")
    return runs[0]["id"]


def load_run(connection: Connection, run_id: str) -> StoredRun:
    """A stored run with its quantiles (``NotFound`` for an unknown id)."""
    run = connection.execute(select(forecast_runs).where(forecast_runs.c.id == run_id)).first()
    if run is None:
        raise NotFound(f"forecast run {run_id}")
    detail = run.detail
    ids, horizons, levels = detail["series"], detail["horizons"], detail["levels"]
    values = np.full((len(ids), len(horizons), len(levels)), np.nan)
    position = {s: i for i, s in enumerate(ids)}
    level_index = {round(level, 6): q for q, level in enumerate(levels)}
    for row in connection.execute(select(forecast_values).where(forecast_values.c.run_id == run_id)):
        values[position[row.series], horizons.index(row.horizon), level_index[round(row.level, 6)]] = row.value
    reference = run.reference_date if isinstance(run.reference_date, date) else date.fromisoformat(str(run.reference_date))
    forecast = QuantileForecast(detail["model_name"], tuple(ids), reference, detail["step_days"], tuple(horizons),
                                tuple(levels), values)
    identity = ModelIdentity(model_id=run.model_id, model_version=run.model_version, weights_sha256=run.weights_sha256)
    observed = {series: [tuple(point) for point in points] for series, points in detail["observed"].items()}
    return StoredRun(run.id, run.kind, run.created, identity, run.input_hash, run.source, forecast, observed,
                     detail["capacity"], detail["notes"])


def has_run(connection: Connection, kind: str, input_hash: str, model: ModelIdentity) -> bool:
    """Whether the same model already forecast this exact input (the refresh job skips it then)."""
    query = select(forecast_runs.c.id).where(forecast_runs.c.kind == kind, forecast_runs.c.input_hash == input_hash,
                                             forecast_runs.c.weights_sha256 == model.weights_sha256).limit(1)
    return connection.execute(query).first() is not None
