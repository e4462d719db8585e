"""The care team's crisis alerts: in headless Chromium a clinician follows the nav link to the flagged
conversations, sees the risk, categories, patient and the requested hand-off, and opens the conversation with the
alert that was sent. Without a browser: staff only, never-flagged conversations refused, reads audited.

The patient's messages are screened with the crisis lexicon rules (the learned model is tested with the chat
service). Screenshots go to the test's tmp_path, and also to ``$MEDAI_UI_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import json

import pytest

from tests.service.ui.conftest import served
from tests.service.ui.test_ui_browser import _screenshot, browser  # noqa: F401 (fixture)


def _rules_only(app):
    """The app's chat service, screening with the lexicon rules."""
    from medai.assistant.chat import DialogueManager
    from medai.assistant.chat.conversations import ConversationService
    from medai.assistant.safety import CrisisScreener

    service = ConversationService(app.state.engine, DialogueManager(screener=CrisisScreener(model=None), semantic=False))
    app.state.runtime["assistant_chat"] = service
    return service


def _conversations(app, patient_id: str) -> dict[str, str]:
    """For ``patient_id``: a kept conversation flagged for suicide risk with a hand-off request, a flagged one not
    kept, and a calm one. Returns their ids."""
    from medai.assistant.chat.conversations import Actor

    service = _rules_only(app)
    actor = Actor("alice", "patient", patient_id)
    kept = service.start(actor, consent=True)["conversation"]["id"]
    service.post(actor, kept, "I can't go on, I want to kill myself")
    service.post(actor, kept, "yes")
    unkept = service.start(actor, consent=False)["conversation"]["id"]
    service.post(actor, unkept, "he hits me and I am scared to go home")
    calm = service.start(actor, consent=True)["conversation"]["id"]
    service.post(actor, calm, "breathing exercise")
    return {"kept": kept, "unkept": unkept, "calm": calm}


def _audit(app, action: str) -> list[dict]:
    """The audit records of ``action``, their details parsed."""
    from medai.store.audit import recent

    with app.state.engine.connect() as connection:
        records = [r for r in recent(connection, 200) if r["action"] == action]
    return [{**r, "detail": json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"] or {}} for r in records]


def test_alerts_are_for_staff_list_flagged_conversations_and_reads_are_audited(client, sign_in, ui_app):
    ids = _conversations(ui_app, ui_app.state.test_patients["ann"])
    sign_in("alice")
    assert 'id="nav-assistant-alerts"' not in client.get("/ui/assistant").text
    assert client.get("/ui/assistant/alerts").status_code == 403
    assert client.get(f"/ui/assistant/alerts/{ids['kept']}").status_code == 403
    client.post("/ui/logout")
    sign_in("drsmith")
    page = client.get("/ui/assistant/alerts")
    assert page.status_code == 200 and 'id="nav-assistant-alerts"' in page.text
    assert ids["kept"] in page.text and ids["unkept"] in page.text and ids["calm"] not in page.text
    assert "Ann Jones" in page.text and "suicide or self-harm" in page.text and "abuse" in page.text
    assert page.text.count("Requested") == 1
    detail = client.get(f"/ui/assistant/alerts/{ids['kept']}")
    assert detail.status_code == 200 and "kill myself" in detail.text and "Please contact the patient" in detail.text
    assert "not kept" not in detail.text
    unkept = client.get(f"/ui/assistant/alerts/{ids['unkept']}")
    assert unkept.status_code == 200 and 'id="messages-not-kept"' in unkept.text and "abuse" in unkept.text
    assert client.get(f"/ui/assistant/alerts/{ids['calm']}").status_code == 403
    assert client.get("/ui/assistant/alerts/no-such-conversation").status_code == 404
    reads = _audit(ui_app, "assistant.read-conversation")
    assert any(r["actor"] == "drsmith" and r["outcome"] == "success" and r["detail"]["conversation"] == ids["kept"]
               for r in reads)
    assert any(r["actor"] == "drsmith" and r["outcome"] == "denied" for r in reads)
    assert any(r["actor"] == "drsmith" and r["detail"].get("ui") for r in _audit(ui_app, "assistant.list-conversations"))


@pytest.fixture
def staff_server(tmp_path, bundle_factory):
    """The app on a free port with patient Ann Jones, her flagged conversations and clinician ``drjones``."""
    from medai.store.accounts import add_user
    from medai.store.ingest import ingest_bundle

    def prepare(app) -> dict:
        ann, bundle = bundle_factory("Jones", "Ann", "MRN-0001", hours=1)
        with app.state.engine.begin() as connection:
            ingest_bundle(connection, bundle)
            add_user(connection, "drjones", "clinician", password="a long clinician password")
        return _conversations(app, ann)

    yield from served(tmp_path, prepare)


@pytest.mark.browser
def test_clinician_opens_a_flagged_conversation_from_the_alerts(staff_server, browser, tmp_path):  # noqa: F811
    base_url, ids = staff_server
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{base_url}/ui/patients")
    page.wait_for_url("**/ui/login**")
    page.fill("#username", "drjones")
    page.fill("#password", "a long clinician password")
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/patients")

    page.click("#nav-assistant-alerts")
    page.wait_for_url("**/ui/assistant/alerts")
    assert "active" in page.locator("#nav-assistant-alerts").get_attribute("class")
    rows = page.locator("#alerts-table .alert-row")
    assert rows.count() == 2
    kept = page.locator(f".alert-row[data-conversation='{ids['kept']}']")
    assert kept.locator(".alert-risk").inner_text() in ("high", "imminent")
    assert "suicide or self-harm" in kept.locator(".alert-categories").inner_text()
    assert "Ann Jones" in kept.locator(".alert-patient").inner_text()
    assert "Requested" in kept.locator(".alert-handoff").inner_text()
    unkept = page.locator(f".alert-row[data-conversation='{ids['unkept']}']")
    assert "abuse" in unkept.locator(".alert-categories").inner_text()
    assert unkept.locator(".alert-handoff").inner_text().strip() == "\u2014"
    _screenshot(page, tmp_path, "assistant-alerts.png", full_page=True)

    kept.locator(".alert-open").click()
    page.wait_for_url(f"**/ui/assistant/alerts/{ids['kept']}")
    assert "suicide or self-harm" in page.locator("#alert-categories").inner_text()
    assert "asked for a person" in page.locator("#alert-handoff").inner_text()
    assert "Please contact the patient" in page.locator("#alert-communications").inner_text()
    patient_messages = page.locator("#messages .msg-patient")
    assert patient_messages.count() == 2 and "kill myself" in patient_messages.first.inner_text()
    assert page.locator("#messages .kind-crisis").count() >= 1
    assert _screenshot(page, tmp_path, "assistant-alert.png", full_page=True).stat().st_size > 10_000
    page.click("#back-to-alerts")
    page.wait_for_url("**/ui/assistant/alerts")
    page.close()
