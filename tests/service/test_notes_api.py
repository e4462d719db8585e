"""The notes API: analyse a DocumentReference (or plain text) into mentions, follow-ups and R4 Conditions; store
them with the prediction and its audit record in one transaction; refuse unreadable notes with a 4xx naming the
field and write nothing; de-identify text; the ``notes-conditions`` CDS service; the patient role refused."""

from __future__ import annotations

import base64
import uuid

import pytest
from sqlalchemy import func, select

from medai.core.fhir import validate_resource
from medai.store.audit import recent
from medai.store.clinical import get_resource, search
from medai.store.ingest import ingest_bundle
from medai.store.schema import audit_log, predictions, resources
from tests.service.test_cds_hooks import _hook

ANALYZE = "/api/v1/notes/analyze"
NOTE = ("Assessment: type 2 diabetes mellitus and hypertension. Possible pneumonia. No chest pain. "
        "Mother had breast cancer. Recommend follow-up CT in 3 months.")


@pytest.fixture(scope="module", autouse=True)
def warm_pipeline():
    """Load the tagger, the coder and the follow-up rules once for the module."""
    from medai.notes.cards import analyze_note
    from medai.notes.documents import read_document, text_document

    analyze_note(read_document(text_document("No fever.")))


def document(patient_id: str | None, text: str = NOTE, **attachment) -> dict:
    body = attachment or {"contentType": "text/plain", "title": "Progress note", "data": base64.b64encode(text.encode()).decode()}
    resource = {"resourceType": "DocumentReference", "id": str(uuid.uuid4()), "status": "current",
                "date": "2024-03-04T10:00:00Z", "content": [{"attachment": body}]}
    if patient_id:
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
    return resource


def _counts(service) -> tuple[int, int, int]:
    with service.client.app.state.engine.connect() as connection:
        return tuple(connection.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (resources, predictions, audit_log))


def _last_audit(service) -> dict:
    with service.client.app.state.engine.connect() as connection:
        return recent(connection, limit=1)[0]


def _post(service, body, role: str = "clinician", store: bool = False):
    return service.client.post(ANALYZE + ("?store=true" if store else ""), json=body, headers=service.headers(role))


def test_analyzes_a_base64_document_reference(service):
    before = _counts(service)
    response = _post(service, document(service.sick_patient))
    assert response.status_code == 200, response.text
    body = response.json()
    status = {m["text"]: m["status"] for m in body["mentions"]}
    assert status["pneumonia"] == "uncertain" and status["chest pain"] == "negated" and status["breast cancer"] == "family"
    pneumonia = next(m for m in body["mentions"] if m["text"] == "pneumonia")
    assert NOTE[pneumonia["start"]:pneumonia["end"]] == "pneumonia" and pneumonia["codes"][0]["code"] == "J18.9"
    assert pneumonia["evidence"][0]["text"] == "Possible"
    assert [f["what"] for f in body["followups"]] == ["follow-up ct"] and body["followups"][0]["when_text"] == "in 3 months"
    verdicts = {c["code"]["text"]: c["verificationStatus"]["coding"][0]["code"] for c in body["conditions"]}
    assert verdicts["chest pain"] == "refuted" and verdicts["pneumonia"] == "provisional" and "breast cancer" not in verdicts
    assert all(validate_resource(c) == "Condition" for c in body["conditions"])
    assert body["model"]["model_id"] == "condition-ner" and not body["stored"] and body["written"] == []
    assert _counts(service) == (before[0], before[1] + 1, before[2] + 1)  # a prediction and its audit record, no resources
    event = _last_audit(service)
    assert event["action"] == "predict:notes:conditions" and event["model_id"] == "condition-ner"
    assert event["patient_id"] == service.sick_patient


def test_analyzes_plain_text(service):
    response = _post(service, {"text": "He denies fever.", "patient": f"Patient/{service.well_patient}"}, role="service")
    assert response.status_code == 200, response.text
    assert [(m["text"], m["status"]) for m in response.json()["mentions"]] == [("fever", "negated")]
    assert response.json()["patient"] == f"Patient/{service.well_patient}"


@pytest.mark.parametrize(("change", "field", "status"), [
    ({"data": "%%% not base64 %%%"}, "DocumentReference.content[0].attachment.data", 422),
    ({"url": "https://ehr.example/notes/1"}, "DocumentReference.content[0].attachment.url", 422),
    ({"contentType": "application/pdf", "data": "JVBERi0="}, "DocumentReference.content[0].attachment.contentType", 422),
    (None, "DocumentReference.content", 422),
])
def test_unreadable_notes_get_a_4xx_naming_the_field_and_write_nothing(service, change, field, status):
    resource = document(service.sick_patient, **(change or {}))
    if change is None:
        del resource["content"]
    before = _counts(service)
    response = _post(service, resource, store=True)
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["expression"] == [field]
    assert _counts(service) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"resourceType": "Observation", "status": "final"}, "resourceType"),
    ({"text": ""}, "text"),
    ({"note": "x"}, "body"),
    ({"text": "Cough.", "patient": "Patient/has spaces"}, "patient"),
])
def test_bad_bodies_name_the_field(service, body, field):
    response = _post(service, body)
    assert response.status_code == 422 and response.json()["issue"][0]["expression"] == [field]


def test_store_writes_the_note_conditions_prediction_and_audit_together(service):
    resource = document(service.sick_patient)
    before = _counts(service)
    response = _post(service, resource, store=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] and f"DocumentReference/{resource['id']}" in body["written"]
    assert len(body["written"]) == 1 + len(body["conditions"]) and body["ui_url"].endswith(resource["id"])
    assert _counts(service) == (before[0] + len(body["written"]), before[1] + 1, before[2] + 1)
    with service.client.app.state.engine.connect() as connection:
        stored = get_resource(connection, "Condition", body["conditions"][0]["id"])
        assert stored["evidence"][0]["detail"][0]["reference"] == f"DocumentReference/{resource['id']}"
        assert stored["subject"] == {"reference": f"Patient/{service.sick_patient}"}
        row = connection.execute(select(predictions.c.model_id, predictions.c.model_version, predictions.c.weights_sha256)
                                 .where(predictions.c.id == body["prediction_id"])).one()
    assert row.model_id == "condition-ner" and row.model_version == body["model"]["model_version"]
    assert row.weights_sha256 == body["model"]["weights_sha256"]
    again = _post(service, resource, store=True)  # the same note again: the same Conditions, new versions
    assert again.status_code == 200 and _counts(service)[0] == before[0] + len(body["written"])


@pytest.mark.parametrize(("body_of", "field"), [
    (lambda s: document("not-stored-patient"), "DocumentReference.subject"),
    (lambda s: document(None), "DocumentReference.subject"),
    (lambda s: {"text": "No fever."}, "patient"),
])
def test_store_needs_a_stored_patient_and_writes_nothing_otherwise(service, body_of, field):
    before = _counts(service)
    response = _post(service, body_of(service), store=True)
    assert response.status_code == 422 and response.json()["issue"][0]["expression"] == [field]
    assert _counts(service) == before


def test_patient_role_is_refused(service):
    assert _post(service, document(service.well_patient), role="patient").status_code == 403
    deid = service.client.post("/api/v1/notes/deidentify", json={"text": "x"}, headers=service.headers("patient"))
    assert deid.status_code == 403
    hook = service.client.post("/cds-services/notes-conditions", json=_hook(service.well_patient),
                               headers=service.headers("patient"))
    assert hook.status_code == 403


def test_deidentify_masks_and_surrogates(service):
    text = "Mr. Harold Finch was seen on 03/04/2024. Call 617-555-1234."
    response = service.client.post("/api/v1/notes/deidentify", json={"text": text}, headers=service.headers("clinician"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "Finch" not in body["text"] and "555" not in body["text"] and "[NAME]" in body["text"]
    typed = {(s["text"], s["type"]) for s in body["spans"]}
    assert {("Harold Finch", "NAME"), ("03/04/2024", "DATE"), ("617-555-1234", "PHONE")} <= typed
    assert not any("Call" in s["text"] for s in body["spans"])
    assert all(text[s["start"]:s["end"]] == s["text"] for s in body["spans"])
    event = _last_audit(service)
    assert event["action"] == "deidentify:text" and "Finch" not in str(event)
    refused = service.client.post("/api/v1/notes/deidentify", json={"text": text, "mode": "surrogate"},
                                  headers=service.headers("clinician"))
    assert refused.status_code == 422 and refused.json()["issue"][0]["expression"] == ["key"]
    surrogate = service.client.post("/api/v1/notes/deidentify", json={"text": text, "mode": "surrogate", "key": "k"},
                                    headers=service.headers("clinician")).json()
    assert "Finch" not in surrogate["text"] and "[NAME]" not in surrogate["text"]


def test_cds_card_lists_a_missing_condition_and_a_follow_up(service):
    engine = service.client.app.state.engine
    note = document(service.sick_patient)
    with engine.begin() as connection:
        ingest_bundle(connection, {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": note, "request": {"method": "PUT", "url": f"DocumentReference/{note['id']}"}}]})
        problems = search(connection, "Condition", service.sick_patient)
    assert [p["code"]["coding"][0]["display"] for p in problems] == ["Hypertension"]  # SNOMED-coded problem list
    discovery = service.client.get("/cds-services").json()["services"]
    assert next(s for s in discovery if s["id"] == "notes-conditions")["hook"] == "patient-view"
    before = _counts(service)
    response = service.client.post("/cds-services/notes-conditions", json=_hook(service.sick_patient),
                                   headers=service.headers("service"))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert "type 2 diabetes mellitus" in card["summary"] and "1 follow-up" in card["summary"]
    assert "hypertension" not in card["summary"]  # already on the problem list
    assert "pneumonia" not in card["summary"] and "breast cancer" not in card["summary"]  # uncertain, family
    assert "follow-up ct in 3 months" in card["detail"] and card["indicator"] == "warning"
    assert card["source"]["label"].startswith("medai notes ")
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert card["suggestions"][0]["actions"][0]["type"] == "create" and validate_resource(resource) == "Condition"
    assert resource["code"]["coding"][0]["code"].startswith("E11")
    assert card["links"][0]["url"].endswith(f"/ui/notes?patient={service.sick_patient}")
    assert _counts(service) == (before[0], before[1] + 1, before[2] + 1)  # the prediction is recorded and audited


def test_cds_uses_the_prefetch(service):
    patient = service.well_patient
    notes = {"resourceType": "Bundle", "type": "searchset",
             "entry": [{"resource": document(patient, "Chronic asthma. Return to clinic if symptoms worsen.")},
                       {"resource": document("someone-else", "Gout.")}]}
    conditions = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    response = service.client.post("/cds-services/notes-conditions",
                                   json=_hook(patient, {"notes": notes, "conditions": conditions}),
                                   headers=service.headers("clinician"))
    (card,) = response.json()["cards"]
    assert "asthma" in card["summary"] and "Gout" not in card["detail"]
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    quiet = service.client.post("/cds-services/notes-conditions", json=_hook(patient, {"notes": empty, "conditions": empty}),
                                headers=service.headers("clinician"))
    assert quiet.status_code == 200 and quiet.json()["cards"] == []
