"""Sepsis application adapter: CDS service, risk timeline endpoint, streaming listener and alert feed."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timezone
from functools import lru_cache

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from medai.core.records import Observation
from medai.errors import InvalidInput
from medai.models import ModelNotFoundError, default_registry
from medai.risk.sepsis.cards import risk_assessment, sepsis_card
from medai.risk.sepsis.model import MODEL_NAME, SepsisModel
from medai.risk.sepsis.monitor import SepsisMonitor
from medai.risk.sepsis.patient import demographics, patient_timeline, stored_stay
from medai.service.applications import Application, CdsInvocation, CdsResult, CdsService
from medai.service.deps import ANY_PERSON, CLINICAL, audit, check_patient_access, require_roles
from medai.service.predictions import record_prediction
from medai.store import clinical
from medai.store.accounts import Principal
from medai.store.ingest import ingest_resource

router = APIRouter(prefix="/api/sepsis", tags=["sepsis"])
_monitor_lock = threading.Lock()


@lru_cache(maxsize=1)
def sepsis_model() -> SepsisModel | None:
    """The installed sepsis package (hash-checked), or None when it is not installed."""
    try:
        model = SepsisModel.from_package(default_registry().get(MODEL_NAME))
    except ModelNotFoundError:
        return None
    model.lgbm.n_jobs = 1
    return model


def _require_model() -> SepsisModel:
    model = sepsis_model()
    if model is None:
        raise HTTPException(404, f"the {MODEL_NAME!r} model package is not installed")
    return model


def _timeline_payload(timeline) -> dict:
    return {"threshold": timeline.prediction.threshold, "prediction": timeline.prediction.model_dump(mode="json"),
            "timeline": [{"time": t.isoformat(), "risk": round(float(r), 4), "alert": bool(a)}
                         for t, r, a in zip(timeline.hours, timeline.risks, timeline.alerts)]}


@router.get("/patients/{patient_id}/risk")
def patient_risk(patient_id: str, request: Request, principal: Principal = Depends(require_roles(*ANY_PERSON))) -> dict:
    """The patient's hourly sepsis risk over the last week, alert hours, and the current risk with its explanation."""
    check_patient_access(principal, patient_id)
    model = _require_model()
    with request.app.state.engine.connect() as connection:
        timeline = patient_timeline(connection, patient_id, model)
    if timeline is None:
        raise HTTPException(404, f"no vitals or labs stored for Patient/{patient_id} in the last 7 days")
    record_prediction(request.app.state.engine, principal, timeline.prediction, action="predict:sepsis")
    return _timeline_payload(timeline)


@router.get("/alerts")
def alerts(request: Request, principal: Principal = Depends(require_roles(*CLINICAL))) -> list[dict]:
    """Alerts the policy decided to notify, newest first (from the live stream)."""
    audit(request, principal, "read:sepsis-alerts")
    return list(reversed(request.app.state.runtime.get("sepsis_alerts", [])))


def sepsis_cds(invocation: CdsInvocation) -> CdsResult:
    """patient-view: the current sepsis risk with its top factors, from the patient's stored vitals and labs."""
    patient_id = invocation.context["patientId"]
    model = sepsis_model()
    if model is None:
        return CdsResult(cards=[])
    with invocation.engine.connect() as connection:
        timeline = patient_timeline(connection, patient_id, model)
    if timeline is None:
        card = {"uuid": f"sepsis-unavailable-{patient_id}", "summary": "Sepsis risk not available: no vitals or labs in the last 7 days",
                "indicator": "info", "source": {"label": "medai sepsis early warning"}}
        return CdsResult(cards=[card])
    base = str(invocation.request.base_url).rstrip("/")
    card = sepsis_card(timeline.prediction, f"{base}/ui/patients/{patient_id}", f"{base}/ui/models/{MODEL_NAME}")
    return CdsResult(cards=[card], predictions=[timeline.prediction])


def _patient_demographics(app: FastAPI, patient_id: str) -> tuple[float, int]:
    cache = app.state.runtime.setdefault("sepsis_demographics", {})
    if patient_id not in cache:
        with app.state.engine.connect() as connection:
            patients = clinical.patient_records(connection, "Patient", patient_id)
        cache[patient_id] = demographics(patients[0], datetime.now(timezone.utc)) if patients else (60.0, 0)
    return cache[patient_id]


def on_observation(app: FastAPI, principal: Principal, observation: Observation) -> None:
    """Update the patient's streaming state; store the new risk as a RiskAssessment; queue notified alerts."""
    model = sepsis_model()
    if model is None or observation.patient_id is None or observation.effective is None:
        return
    with _monitor_lock:
        if "sepsis_monitor" not in app.state.runtime:
            app.state.runtime["sepsis_monitor"] = SepsisMonitor(model)
        monitor = app.state.runtime["sepsis_monitor"]
        if not monitor.is_monitoring(observation.patient_id):  # first observation since start-up: warm up from the store
            with app.state.engine.connect() as connection:
                stay = stored_stay(connection, observation.patient_id, observation.effective)
            if stay is not None:
                monitor.warm_start(observation.patient_id, stay.rows, stay.start, stay.age, stay.gender)
        try:
            update = monitor.observe(observation.patient_id, observation, *_patient_demographics(app, observation.patient_id))
        except InvalidInput:
            return  # not one of the model's variables
    with app.state.engine.begin() as connection:
        ingest_resource(connection, risk_assessment(update.prediction))
    record_prediction(app.state.engine, principal, update.prediction, action="predict:sepsis-stream")
    if update.decision.notify:
        queue = app.state.runtime.setdefault("sepsis_alerts", deque(maxlen=500))
        queue.append({"patient_id": observation.patient_id, "time": observation.effective.isoformat(), "risk": update.probability,
                      "reason": update.decision.reason, "summary": update.prediction.explanation.summary})
        from medai.store.audit import AuditEvent, append

        append(app.state.engine, AuditEvent("sepsis-monitor", "service", "alert:sepsis", patient_id=observation.patient_id,
                                            model_id=update.prediction.model.model_id, model_version=update.prediction.model.model_version,
                                            weights_sha256=update.prediction.model.weights_sha256, detail={"reason": update.decision.reason}))


def sepsis_application() -> Application:
    """The sepsis application's router, CDS service and streaming listener."""
    service = CdsService(id="sepsis-early-warning", hook="patient-view", title="Sepsis early warning",
                         description="Hourly sepsis risk from the patient's vitals and labs, with the measurements behind it.",
                         handler=sepsis_cds, prefetch={"patient": "Patient/{{context.patientId}}"})
    return Application(name="sepsis", routers=[router], cds_services=[service], observation_listeners=[on_observation])
