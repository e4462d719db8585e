"""CDS Hooks 2.0: discovery, service invocation and feedback."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import insert

from medai.service.applications import CdsInvocation, CdsService
from medai.service.deps import CLINICAL, audit, check_patient_access, require_roles
from medai.service.errors import read_json_body
from medai.service.predictions import record_prediction
from medai.store.accounts import Principal
from medai.store.schema import cds_feedback

router = APIRouter(tags=["CDS Hooks"])
_FEEDBACK_OUTCOMES = {"accepted", "overridden"}


def _service(request: Request, service_id: str) -> CdsService:
    services: dict[str, CdsService] = request.app.state.cds_services
    if service_id not in services:
        raise HTTPException(404, f"no CDS service {service_id!r}; available: {', '.join(sorted(services))}")
    return services[service_id]


@router.get("/cds-services")
def discovery(request: Request) -> dict:
    """The CDS Hooks discovery document (public, as the specification expects)."""
    return {"services": [s.discovery_entry() for s in request.app.state.cds_services.values()]}


@router.post("/cds-services/{service_id}")
async def invoke(service_id: str, request: Request, principal: Principal = Depends(require_roles(*CLINICAL))) -> dict:
    """Run a CDS service for a hook request and return its cards."""
    service = _service(request, service_id)
    body = await read_json_body(request)
    if not isinstance(body, dict):
        raise HTTPException(400, "the hook request must be a JSON object")
    missing = [key for key in ("hook", "hookInstance", "context") if key not in body]
    if missing:
        raise HTTPException(400, f"hook request is missing {', '.join(missing)}")
    if body["hook"] != service.hook:
        raise HTTPException(400, f"service {service_id!r} answers hook {service.hook!r}, not {body['hook']!r}")
    context = body["context"] if isinstance(body["context"], dict) else {}
    patient_id = context.get("patientId")
    if not patient_id:
        raise HTTPException(400, "context.patientId is required")
    check_patient_access(principal, patient_id)
    invocation = CdsInvocation(request=request, engine=request.app.state.engine, hook=body["hook"], context=context,
                               prefetch=body.get("prefetch") or {})
    result = await run_in_threadpool(service.handler, invocation)  # model work off the event loop
    for prediction in result.predictions:
        record_prediction(request.app.state.engine, principal, prediction, action=f"cds:{service_id}")
    if not result.predictions:
        audit(request, principal, f"cds:{service_id}", patient_id=patient_id, detail={"cards": len(result.cards)})
    return {"cards": result.cards}


@router.post("/cds-services/{service_id}/feedback")
async def feedback(service_id: str, request: Request, principal: Principal = Depends(require_roles(*CLINICAL))) -> dict:
    """Record what the clinician did with each card (accepted / overridden, with reasons)."""
    _service(request, service_id)
    body = await read_json_body(request)
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise HTTPException(400, "feedback must be an object with a non-empty 'feedback' list")
    now = datetime.now(timezone.utc)
    rows = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("card") or item.get("outcome") not in _FEEDBACK_OUTCOMES:
            raise HTTPException(400, f"feedback[{index}] needs 'card' and an 'outcome' of {sorted(_FEEDBACK_OUTCOMES)}")
        rows.append({"service_id": service_id, "card_uuid": item["card"], "outcome": item["outcome"], "received": now, "body": item})
    with request.app.state.engine.begin() as connection:
        connection.execute(insert(cds_feedback), rows)
    audit(request, principal, f"cds-feedback:{service_id}", detail={"items": len(rows)})
    return {"received": len(rows)}
