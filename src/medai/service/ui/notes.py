"""The note viewer of the web UI: paste a note, or pick a stored DocumentReference of a patient, and see the note
with its condition mentions highlighted by status (affirmed, negated, uncertain, historical, family, hypothetical;
the status is written beside each mention, not shown by colour alone), each mention's ICD-10-CM code and
trigger on hover, the follow-ups the note asks for, and a de-identified view of the same note.

Staff only (clinicians and admins). Each analysis is recorded as a prediction; opening a stored note, and
listing a patient's notes, are audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from medai.errors import InvalidInput, NotFound
from medai.notes.cards import STATUSES, NoteAnalysis, mention_status, when_text
from medai.notes.documents import MAX_NOTE_BYTES, Note, read_document, text_document
from medai.notes.extract import Mention
from medai.service.deps import audit
from medai.service.routers.notes import analyze_locked, deidentify, record_analysis
from medai.service.ui import views
from medai.service.ui.routes import STAFF, _error, _forbidden, _page, signed_in
from medai.store import clinical
from medai.store.accounts import Principal
from medai.store.audit import AuditEvent, append_in

router = APIRouter(tags=["ui"])
SECTION = "notes"
STATUS_TEXT = {"affirmed": "present", "negated": "absent (negated)", "uncertain": "possible (uncertain)",
               "historical": "past (historical)", "family": "family member", "hypothetical": "hypothetical"}


@dataclass
class Segment:
    """A piece of the note: plain text, a condition mention, or (de-identified view) a PHI replacement."""

    text: str
    status: str | None = None
    title: str = ""
    code: str = ""
    phi: str | None = None


def _mention_title(mention: Mention) -> str:
    status = mention_status(mention)
    code = mention.codes[0] if mention.codes else None
    parts = [f"{STATUS_TEXT[status]}", f"ICD-10-CM {code.code} {code.description}" if code else "no ICD-10-CM code"]
    parts += [f'{e["category"]} trigger: "{e["text"]}"' for e in mention.assertion_evidence]
    return " \u00b7 ".join(parts)


def mention_segments(text: str, mentions: list[Mention]) -> list[Segment]:
    """The note cut into plain text and mentions (mentions do not overlap)."""
    out, cursor = [], 0
    for mention in sorted(mentions, key=lambda m: m.start):
        if mention.start < cursor:
            continue
        out += [Segment(text[cursor:mention.start]),
                Segment(text[mention.start:mention.end], mention_status(mention), _mention_title(mention),
                        mention.codes[0].code if mention.codes else "")]
        cursor = mention.end
    return [*out, Segment(text[cursor:])]


def deid_segments(text: str, replacements) -> list[Segment]:
    """The de-identified note cut into kept text and replacements (each tagged with its PHI type)."""
    out, cursor = [], 0
    for item in replacements:
        out += [Segment(text[cursor:item.span.start]), Segment(item.replacement, phi=item.span.type.value)]
        cursor = item.span.end
    return [*out, Segment(text[cursor:])]


async def _viewer(request: Request, principal: Principal, note: Note, action: str, stored: bool) -> HTMLResponse:
    """Analyse and de-identify the note, record the analysis (and for a stored note the view), render the viewer."""
    analysis: NoteAnalysis = await run_in_threadpool(analyze_locked, note)
    deid = await run_in_threadpool(deidentify, note.text)

    def viewed(connection: Connection) -> None:
        if stored:
            append_in(connection, AuditEvent(actor=principal.username, role=principal.role, action="ui:view-note",
                                             patient_id=note.patient_id, detail={"document": note.id}))

    await run_in_threadpool(record_analysis, request.app, principal, analysis, action, False, "patient", viewed)
    patient = None
    if note.patient_id:
        with request.app.state.engine.connect() as connection:
            try:
                patient = views.get_patient(connection, note.patient_id)
            except NotFound:
                patient = None
    counts = Counter(mention_status(m) for m in analysis.mentions)
    return _page(request, "notes_viewer.html", principal, section=SECTION, note=note, stored=stored, patient=patient,
                 analysis=analysis, segments=mention_segments(note.text, analysis.mentions),
                 deid_segments=deid_segments(note.text, deid.replacements), phi_count=len(deid.replacements),
                 legend=[(s, STATUS_TEXT[s], counts.get(s, 0)) for s in STATUSES], status_of=mention_status,
                 when_text=when_text)


def _form_page(request: Request, principal: Principal, patient_id: str | None = None, status_code: int = 200,
               problems: list[str] | None = None, text: str = "") -> HTMLResponse:
    with request.app.state.engine.connect() as connection:
        patients = clinical.list_patients(connection)
        documents = clinical.search(connection, "DocumentReference", patient_id) if patient_id else []
    if patient_id:
        audit(request, principal, "ui:list-notes", patient_id=patient_id, detail={"documents": len(documents)})
    rows = sorted(({"id": d["id"], "date": d.get("date"), "type": (d.get("type") or {}).get("text"),
                    "title": next((c.get("attachment", {}).get("title") for c in d.get("content", [])), None)
                    or d.get("description")} for d in documents), key=lambda r: r["date"] or "", reverse=True)
    return _page(request, "notes.html", principal, status_code=status_code, section=SECTION, patients=patients,
                 patient_id=patient_id, documents=rows, problems=problems or [], text=text, max_chars=MAX_NOTE_BYTES)


@router.get("/ui/notes", response_class=HTMLResponse)
def notes_form(request: Request, patient: str | None = None, principal: Principal = Depends(signed_in)) -> Response:
    """Paste a note, or choose a patient to list their stored notes."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "The note viewer is for clinicians.")
    return _form_page(request, principal, patient or None)


@router.post("/ui/notes", response_class=HTMLResponse)
async def notes_paste(request: Request, text: str = Form(""), principal: Principal = Depends(signed_in)) -> Response:
    """Analyse a pasted note (not stored) and show it in the viewer."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "The note viewer is for clinicians.")
    if not text.strip():
        return _form_page(request, principal, status_code=422, problems=["text: paste the note's text"])
    if len(text.encode("utf-8")) > MAX_NOTE_BYTES:
        return _form_page(request, principal, status_code=422, problems=[f"text: the limit is {MAX_NOTE_BYTES} bytes"])
    note = Note(text_document(text, title="Pasted note"), text)
    return await _viewer(request, principal, note, "ui:notes:analyze", stored=False)


@router.get("/ui/notes/documents/{document_id}", response_class=HTMLResponse)
async def stored_note(request: Request, document_id: str, principal: Principal = Depends(signed_in)) -> Response:
    """A stored DocumentReference in the viewer (the view is audited)."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "The note viewer is for clinicians.")
    with request.app.state.engine.connect() as connection:
        try:
            document = clinical.get_resource(connection, "DocumentReference", document_id)
        except NotFound:
            return _error(request, principal, 404, "Note not found", f"DocumentReference/{document_id} is not in the store.")
    try:
        note = read_document(document)
    except InvalidInput as error:
        audit(request, principal, "ui:view-note", patient_id=clinical.patient_of(document), outcome="failure",
              detail={"document": document_id, "problem": "unreadable attachment"})
        return _error(request, principal, 422, "The note cannot be shown", str(error))
    return await _viewer(request, principal, note, "ui:notes:view", stored=True)
