"""Imaging application adapter: ``/api/v1/imaging`` (list the models, read an uploaded image, fetch a stored
overlay), the imaging web page and a CDS Hooks service that shows a patient's stored imaging findings.

The read itself (checks, storage, prediction record, audit) is :mod:`medai.service.imaging_reads`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from medai.imaging.cards import imaging_card, model_identity, report_overlay, stored_card, stored_read
from medai.service.applications import Application, CdsInvocation, CdsResult, CdsService
from medai.service.deps import audit, require_roles
from medai.service.imaging_reads import (API_PREFIX, PREDICT_ROLES, ImagingRead, imaging_model, installed_models,
                                         model_summary, read_upload, report_observations, stored_report)
from medai.service.ui.imaging import router as ui_router
from medai.service.uploads import read_multipart
from medai.store import clinical
from medai.store.accounts import Principal

READ_ROLES = ("clinician", "admin", "patient", "service")
CARD_FINDINGS = 5

router = APIRouter(prefix=API_PREFIX, tags=["imaging"])


def read_payload(read: ImagingRead, base_url: str) -> dict:
    """The JSON answer of a read: the result, the explanation, links, the FHIR ids and the CDS card."""
    result, resources, report_id = read.result, read.resources, read.report_id
    ui_url = f"/ui/imaging/reports/{report_id}"
    card = imaging_card(result, report_id, page_url=f"{base_url}{ui_url}",
                        model_card_url=f"{base_url}/ui/models/{result.model_id}?version={result.model_version}",
                        limitations=read.limitations)
    study_ref = resources.report["imagingStudy"][0]["reference"]
    return {**result.to_dict(), "prediction_id": read.prediction.id,
            "patient": f"Patient/{read.prediction.patient_id}" if read.prediction.patient_id else None,
            "explanation": read.prediction.explanation.model_dump(mode="json"),
            "overlay_url": f"{API_PREFIX}/reports/{report_id}/overlay", "ui_url": ui_url,
            "fhir": {"ImagingStudy": study_ref, "Observation": [f"Observation/{o['id']}" for o in resources.observations],
                     "DiagnosticReport": f"DiagnosticReport/{report_id}", "created_study": resources.study is not None},
            "card": card}


@router.get("/models")
def list_models(_: Principal = Depends(require_roles(*READ_ROLES))) -> list[dict]:
    """The installed imaging models with their task, threshold and model-card summary."""
    return [model_summary(model) for model in installed_models()]


_UPLOAD_SCHEMA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "One PNG, JPEG, DICOM or NIfTI file."},
        "patient": {"type": "string", "description": "Optional stored patient: 'Patient/<id>' or '<id>'."},
        "study": {"type": "string", "description": "Optional stored ImagingStudy to link instead of creating one."},
        "centre": {"type": "string", "description": "Nodule centre 'column,row,slice' (3D models only)."}}}}}}}


@router.post("/{model_name}/predict", status_code=201, openapi_extra=_UPLOAD_SCHEMA)
async def predict(model_name: str, request: Request, principal: Principal = Depends(require_roles(*PREDICT_ROLES))) -> dict:
    """Read one uploaded image: finding, probability, Grad-CAM overlay; stored as FHIR, recorded and audited."""
    model = imaging_model(model_name)
    form = await read_multipart(request)
    try:
        read = await read_upload(request, principal, model, form)
    finally:
        await form.close()
    return read_payload(read, str(request.base_url).rstrip("/"))


@router.get("/reports/{report_id}/overlay", response_class=Response)
def overlay(report_id: str, request: Request, principal: Principal = Depends(require_roles(*READ_ROLES))) -> Response:
    """The Grad-CAM overlay PNG stored with a report (the model input beside its heat map)."""
    report = stored_report(request, principal, report_id)
    png = report_overlay(report)
    if png is None:
        raise HTTPException(404, f"DiagnosticReport/{report_id} holds no overlay image")
    audit(request, principal, "read:imaging-overlay", patient_id=clinical.patient_of(report), detail={"report": report_id})
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


def imaging_cds(invocation: CdsInvocation) -> CdsResult:
    """patient-view: the patient's latest medai imaging findings, one card each, newest first."""
    patient_id = invocation.context["patientId"]
    base = str(invocation.request.base_url).rstrip("/")
    reads = []
    with invocation.engine.connect() as connection:
        for report in clinical.search(connection, "DiagnosticReport", patient_id):
            if model_identity(report) is None:
                continue  # not made by a medai imaging model
            read = stored_read(report, report_observations(connection, report))
            if read is not None:
                reads.append(read)
    reads.sort(key=lambda r: r.issued or "", reverse=True)
    cards = [stored_card(read, page_url=f"{base}/ui/imaging/reports/{read.report_id}",
                         model_card_url=f"{base}/ui/models/{read.model_id}?version={read.model_version}")
             for read in reads[:CARD_FINDINGS]]
    return CdsResult(cards=cards)


def imaging_application() -> Application:
    """The imaging application's API router, its web page and its CDS service."""
    service = CdsService(id="imaging-findings", hook="patient-view", title="Imaging AI findings",
                         description="The patient's latest AI image reads (finding, probability, threshold, model), "
                                     "each linking to the image with its Grad-CAM heat map.",
                         handler=imaging_cds, prefetch={"patient": "Patient/{{context.patientId}}"})
    return Application(name="imaging", routers=[router, ui_router], cds_services=[service])
