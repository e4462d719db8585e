"""FHIR R4 endpoints: transaction Bundles, reads, patient-scoped searches, streamed Observations, and the
clinician alerts the assistant's crisis layer raises (``Flag`` searchable by patient and status,
``Communication`` by patient)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from medai.core.records import RECORD_TYPES
from medai.errors import InvalidInput, NotFound
from medai.service.deps import ANY_PERSON, CLINICAL, audit, check_patient_access, require_roles
from medai.service.errors import FHIR_JSON, read_json_body
from medai.store import clinical
from medai.store.accounts import Principal
from medai.store.audit import AuditEvent, append_in
from medai.service.streaming import accept_observation
from medai.store.ingest import IngestResult, ingest_bundle

router = APIRouter(prefix="/fhir", tags=["FHIR R4"])
READERS = ANY_PERSON + ("service",)
MAX_PARAM_CHARS = 256
ALERT_TYPES = ("Flag", "Communication")  # stored by the assistant's crisis layer; served read-only
FLAG_STATUSES = ("active", "inactive", "entered-in-error")
SERVED = ", ".join(sorted([*RECORD_TYPES, *ALERT_TYPES]))


def _checked(name: str, value: str | None) -> str | None:
    """A search or path parameter, refused with 400 when it is too long or holds control characters."""
    if value is None:
        return None
    if len(value) > MAX_PARAM_CHARS:
        raise HTTPException(400, f"parameter {name!r} is longer than {MAX_PARAM_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise HTTPException(400, f"parameter {name!r} holds control characters")
    return value


def _fhir(body: dict, status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=FHIR_JSON)


def _searchset(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in resources]}


def _ingest(request: Request, principal: Principal, action: str, write) -> IngestResult:
    """Run ``write`` and its audit record in one transaction (a rejected request is audited on its own)."""
    engine = request.app.state.engine
    try:
        with engine.begin() as connection:
            result = write(connection)
            append_in(connection, AuditEvent(actor=principal.username, role=principal.role, action=action,
                                             detail={"counts": dict(result.counts)}))
    except InvalidInput as error:
        audit(request, principal, action, outcome="rejected", detail={"problems": len(error.problems)})
        raise
    return result


@router.get("/metadata")
def capability_statement(request: Request) -> JSONResponse:
    """The server's CapabilityStatement (public)."""
    types = sorted(RECORD_TYPES)
    alerts = [{"type": "Flag", "interaction": [{"code": "read"}, {"code": "search-type"}],
               "searchParam": [{"name": "patient", "type": "reference"}, {"name": "status", "type": "token"}]},
              {"type": "Communication", "interaction": [{"code": "read"}, {"code": "search-type"}],
               "searchParam": [{"name": "patient", "type": "reference"}]}]
    return _fhir({"resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-30", "kind": "instance",
                  "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
                  "implementation": {"description": "medai FHIR R4 endpoint", "url": str(request.base_url) + "fhir"},
                  "rest": [{"mode": "server", "interaction": [{"code": "transaction"}],
                            "resource": [{"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
                                          "searchParam": [{"name": "patient", "type": "reference"}, {"name": "code", "type": "token"}]}
                                         for t in types] + alerts}]})


@router.post("")
@router.post("/")
async def transaction(request: Request, principal: Principal = Depends(require_roles(*CLINICAL))) -> JSONResponse:
    """Ingest a transaction Bundle: all of it in one database transaction, or nothing."""
    bundle = await read_json_body(request)
    result = await run_in_threadpool(_ingest, request, principal, "fhir:transaction",
                                     lambda connection: ingest_bundle(connection, bundle))
    return _fhir(result.response_bundle())


@router.post("/Observation")
async def post_observation(request: Request, principal: Principal = Depends(require_roles(*CLINICAL))) -> JSONResponse:
    """Accept one streamed vital-sign or lab Observation (its LOINC code must be known to medai)."""
    resource = await read_json_body(request)
    result = await run_in_threadpool(accept_observation, request.app, principal, resource, channel="fhir")
    return _fhir(clinical_resource(request, *result.written[0].split("/")), status_code=201)


def _patient_search(connection: Connection, patient: str | None, count: int) -> list[dict]:
    """Patients matching ``patient`` (an id; every patient when None): an unknown id finds nothing."""
    if patient is None:
        return clinical.search(connection, "Patient", limit=count)
    try:
        return [clinical.get_resource(connection, "Patient", patient)]
    except NotFound:
        return []


def clinical_resource(request: Request, resource_type: str, resource_id: str) -> dict:
    """One stored resource (no access check; callers check)."""
    with request.app.state.engine.connect() as connection:
        return clinical.get_resource(connection, resource_type, resource_id)


def _search_patient(request: Request, principal: Principal, resource_type: str, patient: str | None, count: int,
                    keep=None) -> JSONResponse:
    """A patient-scoped search (patients: their own record only; ``patient`` required), audited.
    ``keep`` filters the found resources before ``count`` applies."""
    patient = _checked("patient", patient)
    if principal.role == "patient":
        patient = patient or principal.patient_id
        check_patient_access(principal, patient)
    if patient is None:
        raise HTTPException(400, f"searching {resource_type} needs a 'patient' parameter")
    with request.app.state.engine.connect() as connection:
        found = clinical.search(connection, resource_type, patient, limit=count if keep is None else 100_000)
    if keep is not None:
        found = [r for r in found if keep(r)][:count]
    audit(request, principal, f"search:{resource_type}", patient_id=patient, detail={"returned": len(found)})
    return _fhir(_searchset(found))


def _read_owned(request: Request, principal: Principal, resource_type: str, resource_id: str) -> JSONResponse:
    """One stored resource of a patient's record (patients: only their own), audited."""
    _checked("id", resource_id)
    try:
        resource = clinical_resource(request, resource_type, resource_id)
    except NotFound:  # said without echoing the id (a patient may have guessed another patient's id)
        raise HTTPException(404, f"no {resource_type} has this id") from None
    patient_id = clinical.patient_of(resource)
    if principal.role == "patient":
        check_patient_access(principal, patient_id or "")
    audit(request, principal, f"read:{resource_type}", patient_id=patient_id)
    return _fhir(resource)


@router.get("/Flag")
def search_flags(request: Request, patient: str | None = Query(None, description="Patient id"),
                 status: str | None = Query(None, description="active | inactive | entered-in-error"),
                 count: int = Query(200, alias="_count", ge=1, le=5000),
                 principal: Principal = Depends(require_roles(*READERS))) -> JSONResponse:
    """A patient's flags (the assistant's crisis alerts among them), optionally of one ``status``."""
    if status is not None and status not in FLAG_STATUSES:
        raise HTTPException(400, f"parameter 'status' must be one of {', '.join(FLAG_STATUSES)}")
    keep = None if status is None else (lambda flag: flag.get("status") == status)
    return _search_patient(request, principal, "Flag", patient, count, keep)


@router.get("/Flag/{resource_id}")
def read_flag(resource_id: str, request: Request, principal: Principal = Depends(require_roles(*READERS))) -> JSONResponse:
    """Read one Flag (patients: only their own)."""
    return _read_owned(request, principal, "Flag", resource_id)


@router.get("/Communication")
def search_communications(request: Request, patient: str | None = Query(None, description="Patient id"),
                          count: int = Query(200, alias="_count", ge=1, le=5000),
                          principal: Principal = Depends(require_roles(*READERS))) -> JSONResponse:
    """A patient's communications (the assistant's alerts to the care team among them)."""
    return _search_patient(request, principal, "Communication", patient, count)


@router.get("/Communication/{resource_id}")
def read_communication(resource_id: str, request: Request,
                       principal: Principal = Depends(require_roles(*READERS))) -> JSONResponse:
    """Read one Communication (patients: only their own)."""
    return _read_owned(request, principal, "Communication", resource_id)


@router.get("/{resource_type}/{resource_id}")
def read(resource_type: str, resource_id: str, request: Request, principal: Principal = Depends(require_roles(*READERS))) -> JSONResponse:
    """Read one resource by type and id (patients: only resources of their own record)."""
    if resource_type not in RECORD_TYPES:
        raise HTTPException(404, f"resource type {resource_type[:64]!r} is not served; served: {SERVED}")
    _checked("id", resource_id)
    resource = clinical_resource(request, resource_type, resource_id)
    patient_id = resource_id if resource_type == "Patient" else clinical.patient_of(resource)
    if principal.role == "patient":
        check_patient_access(principal, patient_id or "")
    audit(request, principal, f"read:{resource_type}", patient_id=patient_id)
    return _fhir(resource)


@router.get("/{resource_type}")
def search(resource_type: str, request: Request, patient: str | None = Query(None, description="Patient id"),
           code: str | None = Query(None, description="A code of the resource (LOINC for Observation)"),
           count: int = Query(200, alias="_count", ge=1, le=5000), principal: Principal = Depends(require_roles(*READERS))) -> JSONResponse:
    """Search a resource type for one patient (``patient`` is required except for Patient)."""
    if resource_type not in RECORD_TYPES:
        raise HTTPException(404, f"resource type {resource_type[:64]!r} is not served; served: {SERVED}")
    patient, code = _checked("patient", patient), _checked("code", code)
    if principal.role == "patient":
        patient = patient or principal.patient_id
        check_patient_access(principal, patient)
    if patient is None and resource_type != "Patient":
        raise HTTPException(400, f"searching {resource_type} needs a 'patient' parameter")
    with request.app.state.engine.connect() as connection:
        if resource_type == "Patient":
            found = _patient_search(connection, patient, count)
        else:
            found = clinical.search(connection, resource_type, patient, code, limit=count)
    audit(request, principal, f"search:{resource_type}", patient_id=patient, detail={"returned": len(found)})
    return _fhir(_searchset(found))
