"""The note viewer: in headless Chromium a clinician opens it (it is in the navigation), pastes a note, sees the condition
mentions highlighted with their status written out (negated, uncertain, family ...) and ICD-10-CM codes on hover,
the follow-up, and switches to the de-identified view, which shows none of the original names; then opens a
patient's stored note. Without a browser: staff only, stored-note views audited, unreadable notes refused.

Screenshots go to the test's tmp_path, and also to ``$MEDAI_UI_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import base64

import pytest

from tests.service.ui.test_ui_browser import _screenshot, _serve, _sign_in, browser  # noqa: F401 (fixture)

NOTE = ("Mr. Harold Finch was seen on 03/04/2024.\n"
        "Assessment: type 2 diabetes mellitus. Possible pneumonia. No chest pain. Mother had breast cancer.\n"
        "Plan: Recommend follow-up CT in 3 months.")


@pytest.fixture(scope="module", autouse=True)
def warm_pipeline():
    """Load the condition tagger, the coder and the de-identification tagger once for the module."""
    from medai.notes.cards import analyze_note
    from medai.notes.documents import read_document, text_document
    from medai.service.routers.notes import deidentify

    analyze_note(read_document(text_document("No fever.")))
    deidentify("Mr. Finch.")


@pytest.fixture
def notes_server(tmp_path, bundle_factory):
    """The app on a free port with Ann Jones (who has a stored progress note) and the clinician ``drsmith``."""
    yield from _serve(tmp_path, [bundle_factory("Jones", "Ann", "MRN-0001")[1]])


@pytest.mark.browser
def test_clinician_pastes_a_note_and_reads_mentions_and_the_deidentified_view(notes_server, browser, tmp_path):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    _sign_in(page, notes_server, "/ui/notes")
    assert page.locator("#nav-notes").get_attribute("class") == "active"  # the page is in the navigation

    page.fill("#note-input", NOTE)
    page.click("#notes-submit")
    page.locator("#note-text").wait_for(state="visible")

    def mention(status: str, text: str):
        found = page.locator(f'#note-text mark[data-status="{status}"]', has_text=text)
        assert found.count() == 1, f"{text} ({status}) not highlighted"
        return found.first

    negated = mention("negated", "chest pain")
    assert negated.is_visible() and negated.inner_text().endswith("negated")  # the status is written, not only coloured
    assert "R07.9" in negated.get_attribute("title") and '"No"' in negated.get_attribute("title")
    assert mention("uncertain", "pneumonia").inner_text().endswith("uncertain")
    assert mention("family", "breast cancer").inner_text().endswith("family")
    affirmed = mention("affirmed", "type 2 diabetes mellitus")
    assert affirmed.get_attribute("data-code").startswith("E11")
    assert page.locator("#notes-legend li").count() == 6
    assert "follow-up ct" in page.locator("#notes-followups").inner_text()
    assert "in 3 months" in page.locator("#notes-followups").inner_text()
    assert "Harold Finch" in page.locator("#note-text").inner_text()
    _screenshot(page, tmp_path, "notes-viewer.png", full_page=True)

    page.click("#deid-toggle")
    deid = page.locator("#note-deid-text")
    deid.wait_for(state="visible")
    assert not page.locator("#note-original").is_visible()
    shown = deid.inner_text()
    assert "Finch" not in shown and "Harold" not in shown and "03/04/2024" not in shown
    assert "[NAME]" in shown and "pneumonia" in shown
    assert page.locator("#deid-toggle").get_attribute("aria-pressed") == "true"
    assert "Recommend follow-up CT" not in page.locator("#notes-followups").inner_text()  # no quotes of the original
    _screenshot(page, tmp_path, "notes-deidentified.png", full_page=True)
    page.click("#deid-toggle")
    page.locator("#note-text").wait_for(state="visible")

    page.goto(f"{notes_server}/ui/notes")
    page.select_option("#notes-patient", label="Ann Jones · MRN-0001")
    page.wait_for_url("**/ui/notes?patient=*")
    page.click("#notes-documents a")
    page.wait_for_url("**/ui/notes/documents/*")
    assert "short of breath" in page.locator("#note-text").inner_text()
    assert page.locator("a.patient-link").inner_text() == "Ann Jones"
    page.close()


def _store_note(ui_app, patient_id: str, attachment: dict) -> str:
    from medai.store.ingest import ingest_resource

    resource = {"resourceType": "DocumentReference", "id": "note-x", "status": "current",
                "subject": {"reference": f"Patient/{patient_id}"}, "content": [{"attachment": attachment}]}
    with ui_app.state.engine.begin() as connection:
        ingest_resource(connection, resource)
    return resource["id"]


def test_note_viewer_is_for_staff_and_views_are_audited(client, sign_in, ui_app):
    from medai.store.audit import recent

    ann = ui_app.state.test_patients["ann"]
    data = base64.b64encode(b"No fever. Possible sepsis.").decode()
    note_id = _store_note(ui_app, ann, {"contentType": "text/plain", "data": data})
    sign_in("alice")  # a patient: not even her own notes here
    assert client.get("/ui/notes").status_code == 403
    assert client.get(f"/ui/notes/documents/{note_id}").status_code == 403
    assert client.post("/ui/notes", data={"text": "No fever."}).status_code == 403
    client.post("/ui/logout")

    sign_in("drsmith")
    listing = client.get(f"/ui/notes?patient={ann}")
    assert listing.status_code == 200 and f"/ui/notes/documents/{note_id}" in listing.text and 'id="nav-notes"' in listing.text
    page = client.get(f"/ui/notes/documents/{note_id}")
    assert page.status_code == 200 and 'data-status="negated"' in page.text and 'data-status="uncertain"' in page.text
    with ui_app.state.engine.connect() as connection:
        actions = [(e["action"], e["patient_id"]) for e in recent(connection, limit=5)]
    assert ("ui:view-note", ann) in actions and ("ui:notes:view", ann) in actions and ("ui:list-notes", ann) in actions
    assert client.get("/ui/notes/documents/nope").status_code == 404
    assert client.post("/ui/notes", data={"text": "  "}).status_code == 422


def test_a_stored_note_by_url_is_refused_with_the_field(client, sign_in, ui_app):
    ann = ui_app.state.test_patients["ann"]
    note_id = _store_note(ui_app, ann, {"contentType": "text/plain", "url": "https://ehr.example/notes/1"})
    sign_in("drsmith")
    page = client.get(f"/ui/notes/documents/{note_id}")
    assert page.status_code == 422 and "attachment.url" in page.text
