"""Notes application adapter: ``/api/v1/notes`` (analyse a note into mentions, follow-ups and FHIR Conditions,
optionally stored; de-identify text), the ``notes-conditions`` CDS Hooks service and the note viewer pages.

An analysis records its prediction (model ``condition-ner``, version and weights sha256) and audit record; with
``store=true`` the DocumentReference and its Conditions are written in the same transaction, so a refused
request writes nothing. The patient role is refused (clinicians and EHRs only).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from medai.core.prediction import Prediction
from medai.errors import InvalidInput, NotFound, Problem
from medai.notes.cards import (NoteAnalysis, analyze_note, analyze_notes, missing_conditions, note_prediction, notes_card,
                               open_followups, problem_list, storage_bundle)
from medai.notes.documents import MAX_NOTE_BYTES, Note, read_document, readable_notes, text_document
from medai.service.applications import Application, CdsInvocation, CdsResult, CdsService
from medai.service.deps import CLINICAL, audit, require_roles
from medai.service.errors import read_json_body
from medai.service.predictions import store_prediction
from medai.store import clinical
from medai.store.accounts import Principal
from medai.store.ingest import ingest_bundle

API_PREFIX = "/api/v1/notes"
ROLES = ("clinician", "service")
MAX_CDS_NOTES = 5
PREFETCH = {"patient": "Patient/{{context.patientId}}", "notes": "DocumentReference?patient={{context.patientId}}",
            "conditions": "Condition?patient={{context.patientId}}"}

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

router = APIRouter(prefix=API_PREFIX, tags=["notes"])
_extract_lock = threading.Lock()  # one extraction at a time: the tagger and the coder's memo are shared


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextBody(_Strict):
    text: str = Field(min_length=1, max_length=MAX_NOTE_BYTES, description="The note's text.")
    patient: str | None = Field(default=None, description="The note's patient: 'Patient/<id>' or '<id>'.")
    title: str | None = Field(default=None, max_length=200)


class DeidBody(_Strict):
    text: str = Field(min_length=1, max_length=MAX_NOTE_BYTES)
    mode: Literal["mask", "surrogate"] = "mask"
    key: str | None = Field(default=None, description="Secret for surrogates (default: the service's secret key).")
    patient: str | None = Field(default=None, description="Shifts surrogate dates by this patient's offset.")


def _validated(model: type[BaseModel], data: object) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput([Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
                            for e in error.errors()[:20]]) from None


def document_from_body(body: object) -> tuple[dict, str]:
    """The DocumentReference a request sends (as is, or built from ``{text, patient}``) and the field naming its patient."""
    if isinstance(body, dict) and "resourceType" in body:
        if body["resourceType"] != "DocumentReference":
            raise InvalidInput(Problem("resourceType", f"send a DocumentReference, not {body['resourceType']!r}",
                                       "not-supported"))
        return body, "DocumentReference.subject"
    if not isinstance(body, dict) or "text" not in body:
        raise InvalidInput(Problem("body", "send a FHIR DocumentReference or a JSON object {text, patient}", "required"))
    text = _validated(TextBody, body)
    patient = text.patient.removeprefix("Patient/") if text.patient else None
    return text_document(text.text, patient, text.title), "patient"


def read_note(document: dict, patient_field: str) -> Note:
    """The note in ``document``; ``InvalidInput`` names the field when it cannot be read or its patient id is malformed."""
    note = read_document(document)
    if note.patient_id is not None and not _FHIR_ID.fullmatch(note.patient_id):
        raise InvalidInput(Problem(patient_field, f"{note.patient_id!r} is not a FHIR id ('Patient/<id>')", "value"))
    return note


def analyze_locked(note: Note) -> NoteAnalysis:
    """:func:`analyze_note` under the extraction lock."""
    with _extract_lock:
        return analyze_note(note)


def require_patient(patient_id: str | None, field: str) -> str:
    """The patient id; ``InvalidInput`` naming ``field`` when the note names none."""
    if patient_id is None:
        raise InvalidInput(Problem(field, "storing needs the note's patient ('Patient/<id>')", "required"))
    return patient_id


def check_patient(connection: Connection, patient_id: str | None, field: str) -> None:
    """``InvalidInput`` naming ``field`` when the patient is missing or not stored."""
    patient_id = require_patient(patient_id, field)
    try:
        clinical.get_resource(connection, "Patient", patient_id)
    except NotFound:
        raise InvalidInput(Problem(field, f"Patient/{patient_id} is not in the store; store it first", "not-found")) from None


def record_analysis(app: FastAPI, principal: Principal, analysis: NoteAnalysis, action: str, store: bool = False,
                    patient_field: str = "patient",
                    extra_audit: Callable[[Connection], None] | None = None) -> tuple[Prediction, list[str]]:
    """Record the analysis' prediction and audit record, and with ``store`` the note and its Conditions, in one
    transaction; ``extra_audit(connection)`` may add an audit record to it. Returns the prediction and what was written."""
    prediction = note_prediction([analysis], analysis.note.patient_id)
    written: list[str] = []
    with app.state.engine.begin() as connection:
        if store:
            check_patient(connection, analysis.note.patient_id, patient_field)
            written = ingest_bundle(connection, storage_bundle(analysis)).written
        store_prediction(connection, principal, prediction, action=action)
        if extra_audit is not None:
            extra_audit(connection)
    return prediction, written


def _json_body(schema: dict) -> dict:
    """``openapi_extra`` describing a JSON request body (the routes read the body themselves)."""
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}
                                                          for media in ("application/fhir+json", "application/json")}}}


_DOCUMENT_SCHEMA = {"type": "object", "required": ["resourceType", "status", "content"],
                    "description": "A FHIR R4 DocumentReference; content[0].attachment holds the note as base64 data "
                                   "with contentType text/plain (url-only attachments are refused).",
                    "properties": {"resourceType": {"type": "string", "enum": ["DocumentReference"]}}}


@router.post("/analyze", openapi_extra=_json_body({"oneOf": [_DOCUMENT_SCHEMA, TextBody.model_json_schema()]}))
async def analyze(request: Request, store: bool = False, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Condition mentions (span, status, ICD-10-CM codes, trigger evidence), follow-ups and FHIR Conditions of one
    note; the prediction is recorded and audited; ``store=true`` also stores the note and the Conditions."""
    document, patient_field = document_from_body(await read_json_body(request))
    note = read_note(document, patient_field)
    if store:  # before the model runs; the transaction checks again that the patient is stored
        require_patient(note.patient_id, patient_field)
    analysis = await run_in_threadpool(analyze_locked, note)
    prediction, written = await run_in_threadpool(record_analysis, request.app, principal, analysis,
                                                  "predict:notes:conditions", store, patient_field)
    return {**analysis.as_dict(), "stored": store, "written": written, "prediction_id": prediction.id,
            "ui_url": f"/ui/notes/documents/{note.id}" if store else None}


@lru_cache(maxsize=1)
def mask_deidentifier():
    """The shared masking de-identifier (its tagger loads on first use)."""
    from medai.privacy.text import Deidentifier

    return Deidentifier(mode="mask")


def deidentify(text: str, mode: str = "mask", key: str | None = None, patient_id: str = ""):
    """De-identify ``text`` with the shared tagger: ``mask`` or keyed ``surrogate`` replacements."""
    from medai.privacy.text import Deidentifier

    shared = mask_deidentifier()
    deidentifier = shared if mode == "mask" else Deidentifier(mode="surrogate", key=key, tagger=shared.tagger)
    with _extract_lock:
        return deidentifier.deidentify(text, patient_id)


@router.post("/deidentify", openapi_extra=_json_body(DeidBody.model_json_schema()))
async def deidentify_text(request: Request, principal: Principal = Depends(require_roles(*CLINICAL))) -> dict:
    """The text with every PHI span masked (``[NAME]``) or replaced by a consistent keyed surrogate, and the spans."""
    body = _validated(DeidBody, await read_json_body(request))
    key = body.key or request.app.state.settings.secret_key
    if body.mode == "surrogate" and not key:
        raise InvalidInput(Problem("key", "surrogate mode needs a key (the service has no secret key set)", "required"))
    patient = body.patient.removeprefix("Patient/") if body.patient else None
    result = await run_in_threadpool(deidentify, body.text, body.mode, key, patient or "")
    types = Counter(r.span.type.value for r in result.replacements)
    audit(request, principal, "deidentify:text", patient_id=patient,
          detail={"mode": body.mode, "characters": len(body.text), "spans": len(result.replacements), "types": dict(types)})
    return {"text": result.text, "mode": body.mode, "spans": [r.to_dict() for r in result.replacements]}


# -- CDS Hooks --------------------------------------------------------------------------------

def _bundle_resources(bundle: object, resource_type: str) -> list[dict] | None:
    """The resources of one type in a prefetched Bundle; None when nothing usable was prefetched."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None
    return [e["resource"] for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == resource_type]


def patient_notes_and_problems(invocation: CdsInvocation) -> tuple[list[dict], list[dict]]:
    """The patient's DocumentReferences and Conditions: from the prefetch, else from the store."""
    patient_id = invocation.context["patientId"]
    documents = _bundle_resources(invocation.prefetch.get("notes"), "DocumentReference")
    conditions = _bundle_resources(invocation.prefetch.get("conditions"), "Condition")
    if documents is None or conditions is None:
        with invocation.engine.connect() as connection:
            documents = documents if documents is not None else clinical.search(connection, "DocumentReference", patient_id)
            conditions = conditions if conditions is not None else clinical.search(connection, "Condition", patient_id)
    return documents, conditions


def notes_cds(invocation: CdsInvocation) -> CdsResult:
    """patient-view: conditions in the latest notes that are not on the problem list, and the follow-ups they ask for."""
    patient_id = invocation.context["patientId"]
    documents, conditions = patient_notes_and_problems(invocation)
    notes = readable_notes(documents, patient_id, limit=MAX_CDS_NOTES)
    if not notes:
        return CdsResult(cards=[])
    with _extract_lock:
        analyses = analyze_notes(notes)
        problems = problem_list(conditions)
    model = analyses[0].model
    base = str(invocation.request.base_url).rstrip("/")
    card = notes_card(missing_conditions(analyses, problems), open_followups(analyses), model,
                      page_url=f"{base}/ui/notes?patient={patient_id}",
                      model_card_url=f"{base}/ui/models/{model.model_id}?version={model.model_version}")
    return CdsResult(cards=[card] if card else [], predictions=[note_prediction(analyses, patient_id)])


def notes_application() -> Application:
    """The notes application's API router, its note viewer pages and its CDS service."""
    from medai.service.ui.notes import router as ui_router

    service = CdsService(id="notes-conditions", hook="patient-view", title="Conditions and follow-ups in notes",
                         description="Conditions affirmed in the patient's latest notes that are not on the problem list "
                                     "(with suggestions to add them) and the follow-ups the notes ask for.",
                         handler=notes_cds, prefetch=PREFETCH)
    return Application(name="notes", routers=[router, ui_router], cds_services=[service])
