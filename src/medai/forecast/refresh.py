"""The scheduled refresh: forecast again, and store the run, whenever a data file has changed.

``refresh`` runs once (for cron or a systemd timer); ``watch`` polls the files every ``interval``
seconds. A file is new when its bytes (with the as-of date and the model weights) hash to a value
no stored run of that kind has; unchanged data is skipped, so re-running the job is harmless.
Every stored run is audited as ``forecast:refresh``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from medai.datasets.flusight import parse_target_csv
from medai.errors import InvalidInput
from medai.forecast.census import parse_census_csv, text_of
from medai.forecast.predict import TrainedForecaster, dropped_locations, forecast_census, forecast_flu, observed_history
from medai.forecast.store import has_run, save_run
from medai.forecast.task import flu_panel
from medai.store.audit import AuditEvent, append

FLU_HISTORY_WEEKS = 26
CENSUS_HISTORY_DAYS = 60


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did with one file: stored a run, skipped unchanged data, or failed (with why)."""

    kind: str
    source: str
    status: str
    run_id: str | None = None
    message: str = ""


def input_hash(raw: bytes, as_of: date, model: TrainedForecaster, extra: str = "") -> str:
    """SHA-256 of a data file's bytes, the as-of date, the model's weights and any options."""
    digest = hashlib.sha256(raw)
    digest.update(f"|{as_of.isoformat()}|{model.identity.weights_sha256}|{extra}".encode())
    return digest.hexdigest()


def run_flu(engine: Engine, raw: bytes, source: str, as_of: date, model: TrainedForecaster, actor: str = "scheduler",
            skip_unchanged: bool = True) -> RefreshResult:
    """Forecast flu admissions from a hub target file's bytes and store the run (unless already stored)."""
    digest = input_hash(raw, as_of, model)
    with engine.connect() as connection:
        if skip_unchanged and has_run(connection, "flu", digest, model.identity):
            return RefreshResult("flu", source, "unchanged", message="this data was already forecast")
    rows = parse_target_csv(raw.decode("utf-8"), source)
    forecast = forecast_flu(rows, as_of, model)
    dropped = dropped_locations(rows, forecast)
    notes = [f"left out (last report over two weeks old): {', '.join(dropped)}"] if dropped else []
    observed = observed_history(flu_panel(rows), forecast.ids, forecast.reference_date, FLU_HISTORY_WEEKS)
    run_id = save_run(engine, "flu", forecast, model.identity, digest, observed, source=source, notes=notes)
    _audit(engine, actor, "flu", run_id, model)
    return RefreshResult("flu", source, "stored", run_id, f"{len(forecast.ids)} locations, reference date {forecast.reference_date}")


def run_census(engine: Engine, raw: bytes, source: str, as_of: date, horizon: int, model: TrainedForecaster,
               actor: str = "scheduler", skip_unchanged: bool = True) -> RefreshResult:
    """Forecast census from a census CSV's bytes and store the run (unless already stored)."""
    digest = input_hash(raw, as_of, model, extra=str(horizon))
    with engine.connect() as connection:
        if skip_unchanged and has_run(connection, "census", digest, model.identity):
            return RefreshResult("census", source, "unchanged", message="this data was already forecast")
    data = parse_census_csv(text_of(raw), source)
    forecast = forecast_census(data, as_of, horizon, model)
    observed = observed_history(data.panel, forecast.ids, as_of, CENSUS_HISTORY_DAYS)
    run_id = save_run(engine, "census", forecast, model.identity, digest, observed,
                      capacity={s: c for s, c in data.capacity.items() if s in forecast.ids}, source=source)
    _audit(engine, actor, "census", run_id, model)
    return RefreshResult("census", source, "stored", run_id, f"{len(forecast.ids)} series, as of {as_of}")


def _audit(engine: Engine, actor: str, kind: str, run_id: str, model: TrainedForecaster) -> None:
    append(engine, AuditEvent(actor=actor, role="service", action="forecast:refresh", model_id=model.identity.model_id,
                              model_version=model.identity.model_version, weights_sha256=model.identity.weights_sha256,
                              detail={"kind": kind, "run_id": run_id}))


@dataclass(frozen=True)
class Source:
    """A data file the job watches: its kind (flu or census), path and, for census, the horizon in days."""

    kind: str
    path: Path
    horizon: int = 14


def refresh(engine: Engine, sources: list[Source], models: dict[str, TrainedForecaster],
            as_of: Callable[[], date] = date.today) -> list[RefreshResult]:
    """Refresh every source once; a bad file is reported in its result and does not stop the others."""
    results = []
    for source in sources:
        try:
            raw = source.path.read_bytes()
            if source.kind == "flu":
                results.append(run_flu(engine, raw, source.path.name, as_of(), models["flu"]))
            else:
                results.append(run_census(engine, raw, source.path.name, as_of(), source.horizon, models["census"]))
        except (InvalidInput, OSError) as error:
            results.append(RefreshResult(source.kind, source.path.name, "failed", message=str(error)))
    return results


def watch(engine: Engine, sources: list[Source], models: dict[str, TrainedForecaster], interval: float,
          report: Callable[[RefreshResult], None], rounds: int | None = None, as_of: Callable[[], date] = date.today) -> None:
    """Call :func:`refresh` every ``interval`` seconds (``rounds`` times, or until interrupted)."""
    done = 0
    while rounds is None or done < rounds:
        for result in refresh(engine, sources, models, as_of):
            report(result)
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
