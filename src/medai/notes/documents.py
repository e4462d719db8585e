"""Notes in FHIR: read the text of a ``DocumentReference``, and wrap plain text in one.

A note's text comes from the first ``content[].attachment`` with inline base64 ``data`` of type ``text/plain``
(its ``charset`` honoured, UTF-8 by default, at most :data:`MAX_NOTE_BYTES`). An attachment that is only a
``url`` is refused with a problem naming that field: medai fetches nothing at run time.

>>> read_document(text_document("No fever.", "p1")).text
'No fever.'
"""

from __future__ import annotations

import base64
import binascii
import codecs
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from medai.core.codes import LOINC
from medai.core.fhir import validate_resource
from medai.errors import InvalidInput, Problem

MAX_NOTE_BYTES = 200_000
TEXT_TYPES = ("text/plain",)
NOTE_TYPE = {"coding": [{"system": LOINC, "code": "34109-9", "display": "Note"}], "text": "Clinical note"}


@dataclass(frozen=True)
class Note:
    """A readable note: its DocumentReference (with an id), the decoded text and who it is about."""

    resource: dict
    text: str

    @property
    def id(self) -> str:
        """The DocumentReference id."""
        return self.resource["id"]

    @property
    def patient_id(self) -> str | None:
        """The subject's id when the subject is ``Patient/<id>``."""
        ref = (self.resource.get("subject") or {}).get("reference", "")
        return ref.removeprefix("Patient/") if ref.startswith("Patient/") else None

    @property
    def date(self) -> str | None:
        """When the note was written (``DocumentReference.date``)."""
        return self.resource.get("date")

    @property
    def title(self) -> str:
        """The attachment's title, else the description, else the document type's text."""
        attachment = next((c.get("attachment", {}) for c in self.resource.get("content", []) if c.get("attachment")), {})
        kind = (self.resource.get("type") or {}).get("text")
        return attachment.get("title") or self.resource.get("description") or kind or "Note"


def _charset(content_type: str, where: str) -> str:
    mime, *params = [part.strip() for part in content_type.split(";")]
    if mime.lower() not in TEXT_TYPES:
        raise InvalidInput(Problem(where, f"content type {mime!r} is not supported; send the note as text/plain",
                                   "not-supported"))
    charset = next((p.split("=", 1)[1].strip(' "') for p in params if p.lower().startswith("charset=")), "utf-8")
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise InvalidInput(Problem(where, f"unknown charset {charset!r}; use utf-8", "not-supported")) from None


def _decode(data: object, charset: str, where: str, max_bytes: int) -> str:
    if not isinstance(data, str):
        raise InvalidInput(Problem(where, "data must be a base64 string", "invalid"))
    data = "".join(data.split())
    if len(data) * 3 // 4 > max_bytes:
        raise InvalidInput(Problem(where, f"the note is about {len(data) * 3 // 4} bytes; the limit is {max_bytes}",
                                   "too-costly"))
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(Problem(where, "data is not valid base64", "invalid")) from None
    try:
        text = raw.decode(charset)
    except UnicodeDecodeError:
        raise InvalidInput(Problem(where, f"data is not {charset} text; give the right charset in contentType",
                                   "invalid")) from None
    if not text.strip():
        raise InvalidInput(Problem(where, "the note is empty", "value"))
    return text


def read_document(resource: object, max_bytes: int = MAX_NOTE_BYTES) -> Note:
    """The note in a FHIR R4 ``DocumentReference``; ``InvalidInput`` names the field that stops it being read.

    The resource must validate; one without an id gets a new one (in the returned copy only).
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
        raise InvalidInput(Problem("resourceType", "expected a FHIR DocumentReference resource", "structure"))
    contents = resource.get("content")
    if not isinstance(contents, list) or not contents:
        raise InvalidInput(Problem("DocumentReference.content", "add content[0].attachment with contentType text/plain "
                                                                "and the note as base64 data", "required"))
    first_url = None
    for index, content in enumerate(contents):
        attachment = content.get("attachment") if isinstance(content, dict) else None
        where = f"DocumentReference.content[{index}].attachment"
        if not isinstance(attachment, dict):
            raise InvalidInput(Problem(where, "each content needs an attachment object", "required"))
        if "data" in attachment:
            text = _decode(attachment["data"], _charset(attachment.get("contentType") or "text/plain", f"{where}.contentType"),
                           f"{where}.data", max_bytes)
            break
        first_url = first_url or (f"{where}.url" if attachment.get("url") else None)
    else:
        if first_url:
            raise InvalidInput(Problem(first_url, "notes referenced by url are not fetched; send the text inline as base64 "
                                                  "data with contentType text/plain", "not-supported"))
        raise InvalidInput(Problem("DocumentReference.content[0].attachment.data", "the attachment holds no data", "required"))
    validate_resource(resource, "DocumentReference")
    return Note({**resource, "id": resource.get("id") or str(uuid.uuid4())}, text)


def text_document(text: str, patient_id: str | None = None, title: str | None = None, when: datetime | None = None) -> dict:
    """A ``DocumentReference`` holding ``text`` (UTF-8, base64) about ``Patient/<patient_id>``."""
    resource = {"resourceType": "DocumentReference", "id": str(uuid.uuid4()), "status": "current", "type": NOTE_TYPE,
                "date": now_text(when),
                "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "title": title or "Clinical note",
                                            "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}}]}
    if patient_id:
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
    return resource


def readable_notes(resources: Iterable[dict], patient_id: str, limit: int | None = None) -> list[Note]:
    """The patient's DocumentReferences that hold readable text, newest first (others are skipped)."""
    notes = []
    for resource in resources:
        try:
            note = read_document(resource)
        except InvalidInput:
            continue
        if note.patient_id == patient_id:
            notes.append(note)
    notes.sort(key=lambda n: n.date or "", reverse=True)
    return notes[:limit]


def now_text(when: datetime | None = None) -> str:
    """An instant as FHIR writes it (UTC, seconds); now when ``when`` is None."""
    return (when or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
