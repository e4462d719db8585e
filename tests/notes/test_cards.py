"""Notes into the workflow: DocumentReference in, R4 Conditions (refuted / provisional / inactive, family and
hypothetical left out, evidence span attached) out; the problem-list comparison and the patient-view card."""

from __future__ import annotations

import base64

import pytest

from medai.core.fhir import validate_resource
from medai.core.prediction import ModelIdentity
from medai.errors import InvalidInput
from medai.notes.cards import (EVIDENCE_EXTENSION, NoteAnalysis, ProblemList, analyze_note, missing_conditions,
                               note_condition, note_prediction, notes_card, open_followups, problem_list, when_text)
from medai.notes.documents import MAX_NOTE_BYTES, Note, read_document, readable_notes, text_document
from medai.notes.extract import Mention
from medai.notes.icd10 import SYSTEM_URI, Code

MODEL = ModelIdentity(model_id="condition-ner", model_version="1.0.0", weights_sha256="ab" * 32)
NOTE_TEXT = ("Assessment: type 2 diabetes mellitus. Possible pneumonia. No chest pain. "
             "History of myocardial infarction. Mother had breast cancer. Recommend follow-up CT in 3 months.")


def document(text: str = NOTE_TEXT, patient: str | None = "p1", **attachment) -> dict:
    """A DocumentReference with the text inline (base64), or with ``attachment`` fields instead."""
    body = attachment or {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}
    resource = {"resourceType": "DocumentReference", "id": "doc-1", "status": "current", "date": "2024-03-04T10:00:00Z",
                "content": [{"attachment": body}]}
    if patient:
        resource["subject"] = {"reference": f"Patient/{patient}"}
    return resource


def mention(text: str, start: int = 0, code: str | None = "E11.9", **flags) -> Mention:
    codes = [Code(code, f"description of {code}", 0.93, True, text.lower(), version="2026")] if code else []
    evidence = [{"category": flag, "start": 0, "end": 3, "text": "Trg", "rule": "trg", "source": "test"} for flag in flags]
    return Mention(start, start + len(text), text, codes=codes, assertion_evidence=evidence, **flags)


@pytest.fixture(scope="module")
def analysis():
    """The real pipeline on NOTE_TEXT (the tagger and the coder load once for the module)."""
    return analyze_note(read_document(document()))


# -- reading the DocumentReference ------------------------------------------------------------

def test_reads_base64_text_with_its_charset():
    note = read_document(document(contentType="text/plain; charset=iso-8859-1",
                                  data=base64.b64encode("Café au lait spots.".encode("latin-1")).decode()))
    assert note.text == "Café au lait spots." and note.patient_id == "p1" and note.id == "doc-1"
    without_id = {k: v for k, v in document().items() if k != "id"}
    assert read_document(without_id).id and "id" not in without_id  # a new id, in the copy only


@pytest.mark.parametrize(("attachment", "where"), [
    ({"contentType": "text/plain", "data": "not base64!"}, "DocumentReference.content[0].attachment.data"),
    ({"contentType": "text/plain", "url": "https://ehr.example/notes/1"}, "DocumentReference.content[0].attachment.url"),
    ({"contentType": "application/pdf", "data": "JVBERi0="}, "DocumentReference.content[0].attachment.contentType"),
    ({"contentType": "text/plain; charset=klingon", "data": "aGk="}, "DocumentReference.content[0].attachment.contentType"),
    ({"contentType": "text/plain", "data": base64.b64encode(b"\xff\xfe\xfa").decode()},
     "DocumentReference.content[0].attachment.data"),
    ({"contentType": "text/plain", "data": base64.b64encode(b"x" * (MAX_NOTE_BYTES + 10)).decode()},
     "DocumentReference.content[0].attachment.data"),
])
def test_unreadable_attachments_name_the_field(attachment, where):
    with pytest.raises(InvalidInput) as error:
        read_document(document(**attachment))
    assert error.value.problems[0].location == where


def test_missing_content_and_wrong_type_name_the_field():
    with pytest.raises(InvalidInput) as error:
        read_document({"resourceType": "DocumentReference", "status": "current"})
    assert error.value.problems[0].location == "DocumentReference.content"
    with pytest.raises(InvalidInput) as error:
        read_document({"resourceType": "Observation"})
    assert error.value.problems[0].location == "resourceType"


def test_text_document_round_trips_and_readable_notes_skip_the_rest():
    made = text_document("No fever.", "p1", title="Triage")
    assert validate_resource(made) == "DocumentReference" and read_document(made).text == "No fever."
    url_only = document(url="https://ehr.example/1")
    other = {**text_document("x", "p2"), "date": "2030-01-01T00:00:00Z"}
    newer = {**text_document("Cough.", "p1"), "date": "2099-01-01T00:00:00Z"}
    assert [n.text for n in readable_notes([made, url_only, other, newer], "p1")] == ["Cough.", "No fever."]


# -- mentions -> Conditions -------------------------------------------------------------------

NOTE = Note(document(), NOTE_TEXT)


def _codes(condition: dict, field: str) -> str | None:
    return (condition.get(field) or {}).get("coding", [{}])[0].get("code")


@pytest.mark.parametrize(("flags", "verification", "clinical"), [
    ({}, "confirmed", "active"),
    ({"negated": True}, "refuted", None),
    ({"uncertain": True}, "provisional", "active"),
    ({"historical": True}, "confirmed", "inactive"),
    ({"negated": True, "historical": True}, "refuted", None),
])
def test_status_maps_to_verification_and_clinical_status(flags, verification, clinical):
    condition = note_condition(mention("diabetes", 12, **flags), NOTE, MODEL)
    assert validate_resource(condition) == "Condition"
    assert _codes(condition, "verificationStatus") == verification
    assert _codes(condition, "clinicalStatus") == clinical
    assert condition["subject"] == {"reference": "Patient/p1"}


@pytest.mark.parametrize("flag", ["family", "hypothetical"])
def test_family_and_hypothetical_mentions_are_not_the_patients_conditions(flag):
    assert note_condition(mention("breast cancer", **{flag: True}), NOTE, MODEL) is None


def test_condition_carries_code_and_evidence_span():
    condition = note_condition(mention("type 2 diabetes mellitus", 12, uncertain=True), NOTE, MODEL)
    assert condition["code"]["coding"][0] == {"system": SYSTEM_URI, "code": "E11.9", "display": "description of E11.9",
                                              "version": "2026"}
    assert condition["code"]["text"] == "type 2 diabetes mellitus"
    evidence = condition["evidence"][0]
    assert evidence["detail"][0]["reference"] == "DocumentReference/doc-1"
    span = {e["url"]: e for e in evidence["extension"][0]["extension"] if e["url"] != "trigger"}
    assert evidence["extension"][0]["url"] == EVIDENCE_EXTENSION
    assert NOTE_TEXT[span["start"]["valueInteger"]:span["end"]["valueInteger"]] == "type 2 diabetes mellitus"
    assert span["status"]["valueCode"] == "uncertain"
    trigger = next(e for e in evidence["extension"][0]["extension"] if e["url"] == "trigger")
    assert {"url": "text", "valueString": "Trg"} in trigger["extension"]
    assert "characters 12-36" in condition["note"][0]["text"] and '"Trg"' in condition["note"][0]["text"]
    again = note_condition(mention("type 2 diabetes mellitus", 12, uncertain=True), NOTE, MODEL)
    assert again["id"] == condition["id"]  # analysing the same note again updates, not duplicates


def test_uncoded_mention_and_unknown_patient_still_validate():
    note = Note(document(patient=None), NOTE_TEXT)
    condition = note_condition(mention("odd rash", code=None), note, MODEL)
    assert validate_resource(condition) == "Condition"
    assert "coding" not in condition["code"] and "reference" not in condition["subject"]


def test_real_pipeline_maps_statuses(analysis):
    statuses = {c["code"]["text"]: _codes(c, "verificationStatus") for c in analysis.conditions}
    assert statuses["pneumonia"] == "provisional"
    assert statuses["chest pain"] == "refuted"
    assert statuses["type 2 diabetes mellitus"] == "confirmed"
    assert "breast cancer" not in statuses  # family history
    assert all(validate_resource(c) == "Condition" for c in analysis.conditions)
    assert [f.what for f in analysis.followups] == ["follow-up ct"]
    prediction = note_prediction([analysis], "p1")
    assert prediction.model.model_id == "condition-ner" and prediction.value == len(analysis.conditions)
    assert {e.text for e in prediction.explanation.evidence} >= {"pneumonia", "chest pain"}


# -- the problem list and the card ------------------------------------------------------------

def _problem(text: str, system: str | None = None, code: str | None = None, verification: str | None = None) -> dict:
    concept = {"text": text} | ({"coding": [{"system": system, "code": code}]} if code else {})
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/p1"}, "code": concept}
    if verification:
        condition["verificationStatus"] = {"coding": [{"code": verification}]}
    return condition


def test_problem_list_reads_codes_text_and_skips_extracted_and_refuted():
    extracted = note_condition(mention("asthma", code="J45.909"), NOTE, MODEL)
    problems = problem_list([_problem("Diabetes", SYSTEM_URI, "E11.65"),
                             _problem("Essential hypertension (disorder)", "http://snomed.info/sct", "59621000"),
                             _problem("Gout", SYSTEM_URI, "M10.9", verification="refuted"), extracted])
    assert {"E11", "I10"} <= problems.categories and "M10" not in problems.categories and "J45" not in problems.categories
    assert problems.has(mention("type 2 diabetes mellitus", code="E11.9"))  # same category
    assert problems.has(mention("hypertension", code=None))  # words of a problem
    assert not problems.has(mention("asthma", code="J45.909"))


def _analysis_of(*mentions: Mention, followups=()) -> NoteAnalysis:
    return NoteAnalysis(NOTE, list(mentions), list(followups), [], MODEL)


def test_missing_conditions_are_affirmed_present_or_past_and_not_symptoms():
    analysis = _analysis_of(mention("asthma", code="J45.909"), mention("asthma attack", code="J45.901"),
                            mention("old MI", code="I25.2", historical=True), mention("gout", code="M10.9", negated=True),
                            mention("pneumonia", code="J18.9", uncertain=True), mention("cancer", code="C80.1", family=True),
                            mention("cough", code="R05.9"), mention("diabetes", code="E11.9"))
    problems = ProblemList(frozenset({"E11"}), ())
    missing = missing_conditions([analysis], problems)
    assert [(m.mention.text, m.count) for m in missing] == [("asthma", 2), ("old MI", 1)]
    added = missing[1].condition
    assert validate_resource(added) == "Condition"
    assert added["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert _codes(added, "clinicalStatus") == "inactive"


def test_card_lists_missing_conditions_and_followups():
    from medai.notes.followup import detect

    items = detect("Recommend follow-up CT in 3 months. Recommend follow-up CT in 3 months.")
    analysis = _analysis_of(mention("asthma", code="J45.909"), followups=items)
    followups = open_followups([analysis])
    assert len(followups) == 1  # the same what + when once
    card = notes_card(missing_conditions([analysis], ProblemList(frozenset(), ())), followups, MODEL,
                      page_url="http://x/ui/notes?patient=p1", model_card_url="http://x/ui/models/condition-ner")
    assert len(card["summary"]) <= 140 and "asthma" in card["summary"] and "1 follow-up" in card["summary"]
    assert card["indicator"] == "warning" and card["source"]["label"] == "medai notes 1.0.0"
    assert "follow-up ct in 3 months" in card["detail"] and "J45.909" in card["detail"]
    assert card["selectionBehavior"] == "any" and card["links"][0]["url"].endswith("patient=p1")
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "create" and validate_resource(action["resource"]) == "Condition"
    info = notes_card(missing_conditions([analysis], ProblemList(frozenset(), ())), [], MODEL)
    assert info["indicator"] == "info" and "links" in info
    assert notes_card([], [], MODEL) is None


@pytest.mark.parametrize(("when", "words"), [
    ({"value": 3, "unit": "month"}, "in 3 months"), ({"value": 1, "unit": "week"}, "in 1 week"),
    ({"low": 6, "high": 8, "unit": "week"}, "in 6-8 weeks"), ({"event": "discharge", "relation": "before"}, "before discharge"),
    ({"condition": "as needed"}, "as needed"), ({"condition": "symptoms worsen"}, "if symptoms worsen"), (None, "")])
def test_when_in_words(when, words):
    assert when_text(when) == words
