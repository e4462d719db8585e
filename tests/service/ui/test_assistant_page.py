"""The patient chat page: in headless Chromium a patient signs in, agrees to keeping the conversation, runs a
symptom check with the quick-reply buttons to a triage, then sends a crisis message and sees the crisis banner
with resources, which stays after a reload. Without a browser: patients only, consent prompt first.

Screenshots go to the test's tmp_path, and also to ``$MEDAI_UI_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import pytest

from tests.service.ui.conftest import served
from tests.service.ui.test_ui_browser import _screenshot, browser  # noqa: F401 (fixture)

API = "/api/v1/assistant"


def _mount(app) -> None:
    """Screen with the crisis lexicon rules (the learned model is slow to load and is tested with the safety layer)."""
    from medai.assistant.chat import DialogueManager
    from medai.assistant.chat.conversations import ConversationService
    from medai.assistant.safety import CrisisScreener
    app.state.runtime["assistant_chat"] = ConversationService(
        app.state.engine, DialogueManager(screener=CrisisScreener(model=None), semantic=False))


@pytest.fixture
def patient_server(tmp_path, bundle_factory):
    """The app on a free port with patient Ann Jones and her account ``ann`` (password below)."""
    from medai.store.accounts import add_user
    from medai.store.ingest import ingest_bundle

    def prepare(app) -> None:
        _mount(app)
        ann, bundle = bundle_factory("Jones", "Ann", "MRN-0001", hours=1)
        with app.state.engine.begin() as connection:
            ingest_bundle(connection, bundle)
            add_user(connection, "ann", "patient", password="a long patient password", patient_id=ann)

    for base_url, _ in served(tmp_path, prepare):
        yield base_url


@pytest.mark.browser
def test_patient_chats_a_symptom_check_to_a_triage_and_sees_the_crisis_banner(patient_server, browser, tmp_path):  # noqa: F811
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{patient_server}/ui/assistant")
    page.wait_for_url("**/ui/login**")
    page.fill("#username", "ann")
    page.fill("#password", "a long patient password")
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/assistant")

    assert "keep" in page.locator("#consent-text").inner_text()
    page.click("#consent-yes")
    page.wait_for_url("**/ui/assistant?c=*")
    assert "not a doctor" in page.locator("#messages .kind-opening").inner_text()
    assert page.locator("#crisis-banner").is_hidden()
    assert "kept until" in page.locator("#storage-note").inner_text()

    answers = page.locator("#messages .msg-assistant")

    def send(action) -> None:
        """Do ``action`` and wait for the assistant's answer to it."""
        before = answers.count()
        action()
        answers.nth(before).wait_for()

    send(lambda: page.click("#quick-replies .quick-reply:has-text('Check my symptoms')"))
    assert "in your own words" in answers.last.inner_text()
    page.fill("#chat-input", "sore throat and fever for 2 days")
    send(lambda: page.press("#chat-input", "Enter"))
    result = page.locator("#messages .kind-result")
    for _ in range(12):  # answer each interview question with its "No" button until the triage comes
        if result.count():
            break
        assert "kind-question" in answers.last.get_attribute("class")
        send(lambda: page.click("#quick-replies .quick-reply:has-text('No')"))
    result.wait_for()
    text = result.inner_text()
    assert "Possible causes" in text and any(level in text for level in ("EMERGENCY", "Urgent", "Routine", "Self-care"))
    assert "not a doctor" in text
    _screenshot(page, tmp_path, "assistant-triage.png", full_page=True)

    page.fill("#chat-input", "I can't go on, I want to kill myself")
    send(lambda: page.click("#chat-send"))
    banner = page.locator("#crisis-banner")
    banner.wait_for(state="visible")
    assert "988" in banner.inner_text() and banner.get_attribute("role") == "alert"
    crisis = page.locator("#messages .kind-crisis").last
    assert "care team" in crisis.inner_text()
    assert page.locator("#quick-replies .quick-reply:has-text('Yes, contact my care team')").count() == 1
    assert _screenshot(page, tmp_path, "assistant-crisis.png", full_page=True).stat().st_size > 10_000

    page.reload()  # the flag is stored: the banner stays
    page.locator("#crisis-banner").wait_for(state="visible")
    assert "988" in page.locator("#crisis-resources").inner_text()
    assert page.locator("#messages .msg-patient").count() >= 3
    page.close()


def test_assistant_page_is_for_patients_and_asks_for_consent_first(client, sign_in, ui_app):
    _mount(ui_app)
    sign_in("drsmith")
    assert client.get("/ui/assistant").status_code == 403
    client.post("/ui/logout")
    sign_in("alice")
    page = client.get("/ui/assistant")
    assert page.status_code == 200 and 'id="consent"' in page.text and 'id="chat"' not in page.text
    refused = client.post("/ui/assistant/consent", data={"granted": "no", "retention_days": "30"})
    assert refused.status_code == 303
    chat = client.get(refused.headers["location"])
    assert 'id="chat"' in chat.text and "not kept" in chat.text and "not a doctor" in chat.text
