"""The one path of a streamed Observation: validate, store (one transaction), audit, then notify listeners
(here, or on the worker owning the patient's partition when the app is scaled out: medai.service.partitioning)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from medai.core.catalog import lookup
from medai.core.codes import LOINC
from medai.core.fhir import record_from_fhir
from medai.errors import InvalidInput, Problem
from medai.risk.sepsis.variables import sepsis_variables
from medai.store.accounts import Principal
from medai.store.audit import AuditEvent, append, append_in
from medai.store.ingest import IngestResult, ingest_resource

logger = logging.getLogger("medai.streaming")


def check_streamable(resource: object) -> None:
    """Streamed observations must be Observations with a LOINC code medai knows (catalogue or a model's variables)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        raise InvalidInput(Problem("resourceType", "expected an Observation resource", "structure"))
    codes = [c.get("code") for c in (resource.get("code") or {}).get("coding", []) if c.get("system") == LOINC]
    known = sepsis_variables().by_loinc()
    if not any(lookup(code or "") or (code in known) for code in codes):
        raise InvalidInput(Problem("Observation.code", f"unknown code {codes or '(no LOINC coding)'}: streamed observations need a catalogued LOINC vital sign or lab", "code-invalid"))


def accept_observation(app: FastAPI, principal: Principal, resource: object, channel: str) -> IngestResult:
    """Store one streamed Observation and let every application's listener react to it."""
    check_streamable(resource)
    engine = app.state.engine
    try:
        with engine.begin() as connection:  # the Observation and its audit record commit together
            result = ingest_resource(connection, resource)
            record = record_from_fhir(resource)
            append_in(connection, AuditEvent(principal.username, principal.role, f"{channel}:create-observation",
                                             patient_id=record.patient_id))
    except InvalidInput as error:
        append(engine, AuditEvent(principal.username, principal.role, f"{channel}:create-observation", outcome="rejected",
                                  detail={"problems": len(error.problems)}))
        raise
    bus = getattr(app.state, "observation_bus", None)
    if bus is not None:  # scaled out: the worker owning the patient's partition runs the listeners
        bus.publish(record.patient_id or "", resource, principal)
    else:
        notify_listeners(app, principal, record)
    return result


def notify_listeners(app: FastAPI, principal: Principal, record) -> None:
    """Let every application's listener react to a stored Observation (one failure does not stop the others)."""
    for listener in app.state.observation_listeners:
        try:
            listener(app, principal, record)
        except Exception:  # one application's failure must not lose the stored observation or stop the others
            logger.exception("observation listener failed")
