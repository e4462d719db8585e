"""Forecast application adapter: run flu and census forecasts on uploaded data, store and serve them.

``POST /api/v1/forecast/flu`` and ``/census`` take a CSV upload (``file``) and an ``as_of`` date
(census: also ``horizon``), forecast with the installed package, store the run (one transaction)
and audit it. Stored runs are listed, read (quantiles, observed history, capacity), downloaded as
CSV (the hub's layout for flu) and, for census, turned into a staffing plan. ``/scenario``
projects a series' census if admissions change. Forecasts are population-level: clinicians,
admins and services may use them; patients may not.
"""

from __future__ import annotations

import threading
from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from medai.errors import InvalidInput, Problem
from medai.forecast import store
from medai.forecast.census import census_csv
from medai.forecast.hub import hub_csv
from medai.forecast.predict import CENSUS_MODEL, FLU_MODEL, TrainedForecaster, load_trained
from medai.forecast.refresh import RefreshResult, run_census, run_flu
from medai.forecast.scenario import project, read_flows
from medai.forecast.staffing import staffing_plan
from medai.models import ModelNotFoundError, ModelPackageError
from medai.service.applications import Application
from medai.service.deps import audit, require_roles
from medai.service.uploads import read_multipart
from medai.store.accounts import Principal

PREFIX = "/api/v1/forecast"
ROLES = ("clinician", "admin", "service")
PACKAGES = {"flu": FLU_MODEL, "census": CENSUS_MODEL}

router = APIRouter(prefix=PREFIX, tags=["forecast"])
_models: dict[str, TrainedForecaster] = {}
_lock = threading.Lock()


def forecast_model(kind: str) -> TrainedForecaster:
    """The installed, hash-checked package for ``kind`` (flu or census); 503 when it is missing or broken."""
    with _lock:
        if kind not in _models:
            try:
                _models[kind] = load_trained(PACKAGES[kind])
            except ModelNotFoundError:
                raise HTTPException(503, f"the {PACKAGES[kind]} model package is not installed") from None
            except ModelPackageError as error:
                raise HTTPException(503, f"the {PACKAGES[kind]} model package does not load: {error}") from None
        return _models[kind]


def _field(form: FormData, name: str, required: bool = True) -> str | None:
    value = form.get(name)
    if isinstance(value, UploadFile):
        raise InvalidInput(Problem(name, f"{name} must be a text field, not a file", "invalid"))
    if (value is None or not str(value).strip()) and required:
        raise InvalidInput(Problem(name, f"{name} is required", "required"))
    return str(value).strip() if value is not None and str(value).strip() else None


def _as_of(form: FormData) -> date:
    text = _field(form, "as_of")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(Problem("as_of", f"{text!r} is not a date (YYYY-MM-DD)", "value")) from None


def _number(form: FormData, name: str, default: float, cast: type = float) -> float:
    text = _field(form, name, required=False)
    try:
        return default if text is None else cast(text)
    except ValueError:
        raise InvalidInput(Problem(name, f"{text!r} is not a number", "value")) from None


async def _upload(form: FormData) -> tuple[bytes, str]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(Problem("file", "upload the data as a CSV file in the 'file' field", "required"))
    return await upload.read(), upload.filename or "upload.csv"


async def run_upload(request: Request, principal: Principal, kind: str, form: FormData) -> RefreshResult:
    """Check the form, forecast the uploaded file and store the run (always a new run)."""
    raw, name = await _upload(form)
    as_of = _as_of(form)
    model = forecast_model(kind)
    if kind == "flu":
        result = await run_in_threadpool(run_flu, request.app.state.engine, raw, name, as_of, model, principal.username, False)
    else:
        horizon = int(_number(form, "horizon", 14, int))
        result = await run_in_threadpool(run_census, request.app.state.engine, raw, name, as_of, horizon, model,
                                         principal.username, False)
    audit(request, principal, f"forecast:{kind}", model_id=model.identity.model_id, model_version=model.identity.model_version,
          weights_sha256=model.identity.weights_sha256, detail={"run_id": result.run_id, "source": name})
    return result


async def _create(request: Request, principal: Principal, kind: str) -> dict:
    form = await read_multipart(request)
    try:
        result = await run_upload(request, principal, kind, form)
    finally:
        await form.close()
    return {"run_id": result.run_id, "kind": result.kind, "summary": result.message,
            "url": f"{PREFIX}/runs/{result.run_id}", "ui_url": f"/ui/forecast/runs/{result.run_id}"}


@router.post("/flu", status_code=201)
async def forecast_flu_upload(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Forecast weekly flu admissions (hub layout upload, ``as_of``); the run is stored and audited."""
    return await _create(request, principal, "flu")


@router.post("/census", status_code=201)
async def forecast_census_upload(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Forecast daily census (census CSV upload, ``as_of``, optional ``horizon``); the run is stored and audited."""
    return await _create(request, principal, "census")


@router.get("/runs")
def runs(request: Request, kind: str | None = None, limit: int = Query(50, ge=1, le=1000),
         principal: Principal = Depends(require_roles(*ROLES))) -> list[dict]:
    """Stored runs, newest first (``kind`` = flu or census)."""
    if kind is not None and kind not in store.KINDS:
        raise InvalidInput(Problem("kind", f"must be one of {', '.join(store.KINDS)}", "value"))
    with request.app.state.engine.connect() as connection:
        rows = store.list_runs(connection, kind, min(max(limit, 1), 500))
    return [{**row, "reference_date": row["reference_date"].isoformat(), "created": row["created"].isoformat()} for row in rows]


def stored(request: Request, run_id: str) -> store.StoredRun:
    """A stored run (``latest-flu`` / ``latest-census`` name the newest of a kind); 404 when unknown."""
    with request.app.state.engine.connect() as connection:
        if run_id.startswith("latest-") and run_id.removeprefix("latest-") in store.KINDS:
            run_id = store.latest_run_id(connection, run_id.removeprefix("latest-"))
        return store.load_run(connection, run_id)


def run_payload(run: store.StoredRun) -> dict:
    """A run as JSON: model, dates, per series and horizon the quantiles, observed history, capacity, notes."""
    forecast = run.forecast
    series = {}
    for i, name in enumerate(forecast.ids):
        series[name] = [{"horizon": h, "target_date": forecast.target_date(h).isoformat(),
                         "quantiles": {f"{level:g}": float(forecast.values[i, k, q]) for q, level in enumerate(forecast.levels)}}
                        for k, h in enumerate(forecast.horizons)]
    return {"run_id": run.id, "kind": run.kind, "model": run.identity.model_dump(), "reference_date": forecast.reference_date.isoformat(),
            "created": run.created.isoformat(), "source": run.source, "input_hash": run.input_hash, "step_days": forecast.step_days,
            "horizons": list(forecast.horizons), "levels": list(forecast.levels), "series": series,
            "observed": {k: [list(p) for p in v] for k, v in run.observed.items()}, "capacity": run.capacity, "notes": run.notes}


@router.get("/runs/{run_id}")
def run_detail(run_id: str, request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """One stored run with its quantiles."""
    run = stored(request, run_id)
    audit(request, principal, "read:forecast", detail={"run_id": run.id})
    return run_payload(run)


@router.get("/runs/{run_id}/csv", response_class=Response)
def run_csv(run_id: str, request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> Response:
    """The run as CSV: the hub's model-output layout for flu, one row per series, day and quantile for census."""
    run = stored(request, run_id)
    text = hub_csv(run.forecast) if run.kind == "flu" else census_csv(run.forecast)
    name = f"{run.forecast.reference_date.isoformat()}-medai-{run.kind}.csv"
    return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/runs/{run_id}/staffing")
def run_staffing(run_id: str, request: Request, planning_level: float = 0.9,
                 principal: Principal = Depends(require_roles(*ROLES))) -> list[dict]:
    """Nurses per shift and capacity risk for every series and day of a census run."""
    run = stored(request, run_id)
    if run.kind != "census":
        raise InvalidInput(Problem("run_id", "staffing plans are made from census runs", "value"))
    return [row.__dict__ for row in staffing_plan(run.forecast, run.capacity, planning_level=planning_level)]


@router.post("/scenario")
async def scenario(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Census if admissions change: upload (census CSV with admissions, or HHS), ``series``, ``as_of``, ``uplift``, ``horizon``."""
    form = await read_multipart(request)
    try:
        raw, name = await _upload(form)
        series, as_of = _field(form, "series"), _as_of(form)
        uplift, horizon = _number(form, "uplift", 0.3), int(_number(form, "horizon", 14, int))
        admissions, census = await run_in_threadpool(read_flows, raw, name)
        result = await run_in_threadpool(project, admissions, census, series, as_of, uplift, horizon)
    finally:
        await form.close()
    audit(request, principal, "forecast:scenario", detail={"series": series, "uplift": uplift, "source": name})
    return {"series": result.series, "as_of": result.as_of.isoformat(), "uplift": result.uplift,
            "mean_los_days": result.mean_los_days, "admissions_per_day": result.admissions_per_day, "days": result.rows}


def forecast_application() -> Application:
    """The forecast application's API router and its web pages."""
    from medai.service.ui.forecast import router as ui_router

    return Application(name="forecast", routers=[router, ui_router])
