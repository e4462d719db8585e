"""The imaging application's service side: loading the imaging models, and one read of an uploaded image
(check the fields, save the file under a safe name, read it, predict with Grad-CAM, store, record, audit).

A read stores its ``ImagingStudy``, Observations and ``DiagnosticReport`` (with the overlay) in
one transaction, then records the prediction and its audit record. Every check (model, fields, file,
patient) runs before anything is written, so a refused request leaves the store as it was. The API
router and the web page both read through :func:`read_upload`.
"""

from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection
from starlette.datastructures import FormData, UploadFile

from medai.core.prediction import Prediction
from medai.errors import InvalidInput, NotFound, Problem
from medai.imaging.cards import ImagingResources, imaging_prediction, imaging_resources, transaction_bundle
from medai.imaging.image import ImageReadError
from medai.imaging.package import ImagingModel
from medai.imaging.predict import ImagingResult, load_model, predict_images, read_for_task
from medai.imaging.tasks import TASKS
from medai.models import ModelNotFoundError, ModelPackageError, default_registry
from medai.service.deps import check_patient_access
from medai.service.predictions import store_prediction
from medai.service.uploads import SavedUpload, save_upload
from medai.store import clinical
from medai.store.accounts import Principal
from medai.store.ingest import ingest_bundle

API_PREFIX = "/api/v1/imaging"
PREDICT_ROLES = ("clinician", "service")
_SUFFIXES = (".nii.gz", ".nii", ".dcm", ".dicom", ".png", ".jpg", ".jpeg")
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_models: dict[str, ImagingModel] = {}
_models_lock = threading.Lock()
_predict_lock = threading.Lock()  # Grad-CAM hooks the shared network: one read at a time


def imaging_model(name: str) -> ImagingModel:
    """The installed, hash-checked imaging model ``name``: 404 when unknown or not installed."""
    if name not in TASKS:
        raise HTTPException(404, f"unknown imaging model {name!r}; known: {', '.join(TASKS)}")
    with _models_lock:
        if name not in _models:
            try:
                _models[name] = load_model(name, default_registry())
            except ModelNotFoundError:
                raise HTTPException(404, f"the imaging model package {name!r} is not installed") from None
            except ModelPackageError as error:
                raise HTTPException(503, f"the imaging model package {name!r} does not load: {error}") from None
        return _models[name]


def installed_models() -> list[ImagingModel]:
    """Every imaging model whose package is installed and verifies."""
    out = []
    for name in TASKS:
        try:
            out.append(imaging_model(name))
        except HTTPException:
            continue
    return out


def model_summary(model: ImagingModel) -> dict:
    """A model's entry in the model list: task, classes, threshold and its card's summary and limits."""
    task, card = model.task, model.package.card
    return {"name": model.package.name, "version": model.package.version, "title": task.title, "finding": task.finding,
            "classes": list(task.classes), "modality": task.modality, "body_site": task.body_site,
            "spatial_dims": task.spatial_dims, "threshold": model.threshold, "summary": card.summary,
            "intended_use": card.intended_use, "limitations": card.limitations,
            "model_card_url": f"/ui/models/{model.package.name}?version={model.package.version}",
            "predict_url": f"{API_PREFIX}/{model.package.name}/predict"}


@dataclass
class ReadRequest:
    """The checked fields of an upload: the saved file, the patient, the study and the nodule centre."""

    upload: SavedUpload
    patient_id: str | None = None
    study_id: str | None = None
    centre: tuple[float, float, float] | None = None


@dataclass
class ImagingRead:
    """A stored read: the model's result, the FHIR resources written and the recorded prediction."""

    result: ImagingResult
    resources: ImagingResources
    prediction: Prediction
    limitations: list[str]

    @property
    def report_id(self) -> str:
        """The id of the stored DiagnosticReport."""
        return self.resources.report["id"]


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if isinstance(value, UploadFile):
        raise InvalidInput(Problem(name, f"{name} must be a text field, not a file", "invalid"))
    return (value.strip() or None) if isinstance(value, str) else None


def _resource_id(value: str | None, resource_type: str, field: str) -> str | None:
    if value is None:
        return None
    ident = value.removeprefix(f"{resource_type}/")
    if not _FHIR_ID.fullmatch(ident):
        raise InvalidInput(Problem(field, f"{value!r} is not a {resource_type} reference ('{resource_type}/<id>' or '<id>')", "value"))
    return ident


def _centre(value: str | None, model: ImagingModel) -> tuple[float, float, float] | None:
    if value is None:
        return None
    if model.task.spatial_dims != 3:
        raise InvalidInput(Problem("centre", f"centre is only for 3D models; {model.task.name!r} reads 2D images", "value"))
    try:
        x, y, z = (float(part) for part in value.split(","))
    except ValueError:
        raise InvalidInput(Problem("centre", f"centre must be three numbers 'column,row,slice', got {value!r}", "value")) from None
    return x, y, z


def _suffix(filename: str | None, head: bytes) -> str:
    """The suffix the readers need (nibabel goes by the name); the content decides the format."""
    if head[:2] == b"\x1f\x8b":
        return ".nii.gz"
    name = (filename or "").lower()
    suffix = next((s for s in _SUFFIXES if name.endswith(s)), "")
    if not suffix and len(head) >= 348 and head[344:348] in (b"n+1\x00", b"ni1\x00"):
        return ".nii"
    return suffix


def parse_read_request(form: FormData, model: ImagingModel, folder: Path) -> ReadRequest:
    """Check the form's fields and save its ``file`` in ``folder``; ``InvalidInput`` names the bad field."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(Problem("file", "upload one image file (PNG, JPEG, DICOM or NIfTI) in the 'file' field", "required"))
    upload.file.seek(0)
    head = upload.file.read(540)
    return ReadRequest(upload=save_upload(upload, folder, _suffix(upload.filename, head)),
                       patient_id=_resource_id(_text(form, "patient"), "Patient", "patient"),
                       study_id=_resource_id(_text(form, "study"), "ImagingStudy", "study"),
                       centre=_centre(_text(form, "centre"), model))


def _check_references(app: FastAPI, request: ReadRequest) -> None:
    with app.state.engine.connect() as connection:
        for field, resource_type, ident in (("patient", "Patient", request.patient_id),
                                            ("study", "ImagingStudy", request.study_id)):
            if ident is None:
                continue
            try:
                clinical.get_resource(connection, resource_type, ident)
            except NotFound:
                raise InvalidInput(Problem(field, f"{resource_type}/{ident} is not in the store; store it first", "not-found")) from None


def perform_read(app: FastAPI, principal: Principal, model: ImagingModel, request: ReadRequest) -> ImagingRead:
    """Read the image, predict with Grad-CAM, store the FHIR resources (one transaction), record and audit."""
    _check_references(app, request)
    try:
        image = read_for_task(request.upload.path, model.task, request.centre)
        image.source = request.upload.filename
        with _predict_lock:
            result = predict_images(model, [image], explain=True)[0]
    except ImageReadError as error:
        raise InvalidInput(Problem("file", f"{request.upload.filename}: {error.problem}", "invalid")) from None
    except ValueError as error:
        raise InvalidInput(Problem("centre" if request.centre else "file", f"{request.upload.filename}: {error}", "invalid")) from None
    resources = imaging_resources(result, image, request.patient_id, request.study_id)
    limitations = model.package.card.limitations[:3]
    prediction = imaging_prediction(result, request.patient_id, f"DiagnosticReport/{resources.report['id']}", limitations)
    with app.state.engine.begin() as connection:  # the resources, the prediction and its audit record: all or nothing
        ingest_bundle(connection, transaction_bundle(resources.all()))
        store_prediction(connection, principal, prediction, action=f"predict:imaging:{model.task.name}")
    return ImagingRead(result, resources, prediction, limitations)


async def read_upload(request: Request, principal: Principal, model: ImagingModel, form: FormData) -> ImagingRead:
    """Save the form's upload in a private temporary folder and run :func:`perform_read` off the event loop."""
    with tempfile.TemporaryDirectory(prefix="medai-upload-") as folder:
        read_request = await run_in_threadpool(parse_read_request, form, model, Path(folder))
        return await run_in_threadpool(perform_read, request.app, principal, model, read_request)


def stored_report(request: Request, principal: Principal, report_id: str) -> dict:
    """A stored DiagnosticReport the caller may see (404 / 403 otherwise)."""
    with request.app.state.engine.connect() as connection:
        try:
            report = clinical.get_resource(connection, "DiagnosticReport", report_id)
        except NotFound:
            raise HTTPException(404, f"DiagnosticReport/{report_id} not found") from None
    patient_id = clinical.patient_of(report)
    if principal.role == "patient":
        check_patient_access(principal, patient_id or "")
    return report


def report_observations(connection: Connection, report: dict) -> list[dict]:
    """The stored Observations a report lists as results."""
    out = []
    for ref in report.get("result", []):
        kind, _, ident = ref.get("reference", "").partition("/")
        if kind == "Observation":
            try:
                out.append(clinical.get_resource(connection, "Observation", ident))
            except NotFound:
                continue
    return out
