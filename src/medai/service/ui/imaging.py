"""The imaging pages of the web UI: upload an image and read it with a model, and view a stored read
(the image beside its Grad-CAM heat map, the finding, the probability against the threshold, the model).

The upload goes through the same path as ``POST /api/v1/imaging/{model}/predict`` (stored as FHIR,
recorded, audited); a successful upload redirects to the stored read's page (303), a refused one
shows the form again with the problem and the 4xx status.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from medai.errors import InvalidInput, NotFound
from medai.imaging.cards import HEATMAP_TEXT, stored_read
from medai.service.deps import audit
from medai.service.imaging_reads import (API_PREFIX, PREDICT_ROLES, imaging_model, installed_models, model_summary,
                                         read_upload, report_observations, stored_report)
from medai.service.ui import views
from medai.service.ui.routes import PEOPLE, STAFF, _error, _forbidden, _page, signed_in
from medai.service.uploads import read_multipart
from medai.store import clinical
from medai.store.accounts import Principal

router = APIRouter(tags=["ui"])
SECTION = "imaging"


def _form_page(request: Request, principal: Principal, status_code: int = 200, problems: list[str] | None = None,
               selected: str | None = None, patient: str | None = None) -> HTMLResponse:
    models = [model_summary(model) for model in installed_models()]
    with request.app.state.engine.connect() as connection:
        patients = clinical.list_patients(connection)
    audit(request, principal, "ui:list-patients", detail={"patients": len(patients)})
    return _page(request, "imaging.html", principal, status_code=status_code, section=SECTION, models=models,
                 patients=patients, problems=problems or [], selected=selected, patient=patient,
                 may_read=principal.role in PREDICT_ROLES)


@router.get("/ui/imaging", response_class=HTMLResponse)
def imaging_form(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """The upload form: choose a model and a file, optionally link a patient."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "Image reads are for clinicians.")
    return _form_page(request, principal)


def _field(form: FormData | None, name: str) -> str | None:
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) and value else None


@router.post("/ui/imaging", response_class=HTMLResponse)
async def imaging_upload(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """Read the uploaded image; go to the stored read, or show the form again with what was wrong."""
    if principal.role not in PREDICT_ROLES:
        return _forbidden(request, principal, f"Role {principal.role!r} may not run image reads; clinicians may.")
    form = None
    try:
        form = await read_multipart(request)
        model = imaging_model(_field(form, "model") or "")
        read = await read_upload(request, principal, model, form)
    except HTTPException as error:
        return _form_page(request, principal, error.status_code, [str(error.detail)], _field(form, "model"),
                          _field(form, "patient"))
    except InvalidInput as error:
        problems = [f"{p.location}: {p.message}" for p in error.problems]
        return _form_page(request, principal, 422, problems, _field(form, "model"), _field(form, "patient"))
    finally:
        if form is not None:
            await form.close()
    return RedirectResponse(f"/ui/imaging/reports/{read.report_id}", status_code=303)


def _model_link(model_id: str, version: str) -> str | None:
    """The model card page, when that model version is installed."""
    try:
        model = imaging_model(model_id)
    except HTTPException:
        return None
    return f"/ui/models/{model_id}?version={version}" if model.package.version == version else None


@router.get("/ui/imaging/reports/{report_id}", response_class=HTMLResponse)
def imaging_report(request: Request, report_id: str, principal: Principal = Depends(signed_in)) -> Response:
    """A stored read: overlay, finding, probability and threshold, model identity and the report's conclusion."""
    if principal.role not in PEOPLE:
        return _forbidden(request, principal, f"Role {principal.role!r} may not use the web UI.")
    try:
        report = stored_report(request, principal, report_id)
    except HTTPException as error:
        return _error(request, principal, error.status_code, "Report not available", str(error.detail))
    patient = None
    with request.app.state.engine.connect() as connection:
        read = stored_read(report, report_observations(connection, report))
        if read is not None and read.patient_id:
            try:
                patient = views.get_patient(connection, read.patient_id)
            except NotFound:
                patient = None
    if read is None:
        return _error(request, principal, 404, "Not an imaging read", f"DiagnosticReport/{report_id} was not made by a medai imaging model.")
    audit(request, principal, "ui:view-imaging-report", patient_id=read.patient_id, detail={"report": report_id})
    limitations = []
    if (link := _model_link(read.model_id, read.model_version)) is not None:
        limitations = imaging_model(read.model_id).package.card.limitations
    return _page(request, "imaging_report.html", principal, section=SECTION, read=read, report=report, patient=patient,
                 overlay_url=f"{API_PREFIX}/reports/{report_id}/overlay", model_link=link, limitations=limitations,
                 heatmap_text=HEATMAP_TEXT)
