"""The web UI through FastAPI's TestClient: sign-in, access rules, auditing and what the pages show."""

from __future__ import annotations

import re

from sqlalchemy import select

from medai.service.deps import SESSION_COOKIE
from medai.store.schema import audit_log, predictions

TIMELINE_LOINCS = ("8867-4", "9279-1", "59408-5", "8310-5", "8480-6")


def _audit_actions(app, patient_id: str | None = None) -> list[tuple[str, str, str | None]]:
    query = select(audit_log.c.action, audit_log.c.outcome, audit_log.c.patient_id).order_by(audit_log.c.seq)
    with app.state.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(query)]
    return [row for row in rows if patient_id is None or row[2] == patient_id]


# -- sign-in ----------------------------------------------------------------------------------

def test_unauthenticated_pages_redirect_to_login(client, ui_app):
    ann = ui_app.state.test_patients["ann"]
    for path in ("/ui/patients", f"/ui/patients/{ann}", "/ui/models", "/ui/audit"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/ui/login?next=" + path.split("?")[0]), path


def test_root_redirects_to_patient_list(client):
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/patients"


def test_login_form_renders(client):
    response = client.get("/ui/login")
    assert response.status_code == 200
    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert "/ui/static/ui.css" in response.text
    assert client.get("/ui/static/ui.css").status_code == 200


def test_wrong_password_rerenders_form_with_401(client, ui_app):
    response = client.post("/ui/login", data={"username": "drsmith", "password": "wrong"})
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert 'value="drsmith"' in response.text
    assert SESSION_COOKIE not in response.cookies
    assert ("sign-in", "denied", None) in _audit_actions(ui_app)


def test_sign_in_sets_httponly_lax_cookie_and_goes_to_list(client):
    response = client.post("/ui/login", data={"username": "drsmith", "password": "correct horse 1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/patients"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=mdk_")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    assert client.get("/ui/patients").status_code == 200


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, ui_app):
    ann = ui_app.state.test_patients["ann"]
    response = client.post("/ui/login", data={"username": "drsmith", "password": "correct horse 1",
                                               "next": f"/ui/patients/{ann}"})
    assert response.headers["location"] == f"/ui/patients/{ann}"
    response = client.post("/ui/login", data={"username": "drsmith", "password": "correct horse 1",
                                               "next": "//evil.example/ui/"})
    assert response.headers["location"] == "/ui/patients"


def test_logout_revokes_the_token(client, ui_app):
    token = client.post("/ui/login", data={"username": "drsmith", "password": "correct horse 1"}).cookies[SESSION_COOKIE]
    response = client.post("/ui/logout")
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    client.cookies.set(SESSION_COOKIE, token)  # replaying the old cookie no longer works
    assert client.get("/ui/patients").status_code == 303
    assert any(action == "sign-out" for action, _, _ in _audit_actions(ui_app))


# -- access rules -----------------------------------------------------------------------------

def test_patient_user_sees_only_their_own_record(client, ui_app, sign_in):
    ann, bob = ui_app.state.test_patients["ann"], ui_app.state.test_patients["bob"]
    assert sign_in("alice").headers["location"] == f"/ui/patients/{ann}"
    response = client.get("/ui/patients")
    assert response.status_code == 303 and response.headers["location"] == f"/ui/patients/{ann}"
    response = client.get(f"/ui/patients/{bob}")
    assert response.status_code == 403
    assert "only see their own record" in response.text
    assert "Brown" not in response.text
    assert ("ui:view-patient", "denied", bob) in _audit_actions(ui_app, bob)
    assert client.get(f"/ui/patients/{ann}").status_code == 200


def test_audit_page_is_for_admins_only(client, sign_in):
    sign_in("drsmith")
    response = client.get("/ui/audit")
    assert response.status_code == 403
    assert "Only admins" in response.text


def test_admin_sees_audit_log_and_chain_verification(client, sign_in):
    sign_in("root")
    response = client.get("/ui/audit")
    assert response.status_code == 200
    assert "Chain verified" in response.text
    assert "ui:view-audit" in response.text and "sign-in" in response.text


# -- pages ------------------------------------------------------------------------------------

def test_patient_list_shows_demographics_location_and_live_news2(client, ui_app, sign_in):
    sign_in("drsmith")
    response = client.get("/ui/patients")
    assert response.status_code == 200
    page = response.text
    assert "Ann Jones" in page and "Bob Brown" in page
    assert "MRN-0001" in page and "Ward 7B" in page
    ann_row = re.search(r"<tr data-search=\"ann jones.*?</tr>", page, re.S).group(0)
    assert 'class="badge risk-high' in ann_row and 'data-score="8"' in ann_row
    bob_row = re.search(r"<tr data-search=\"bob brown.*?</tr>", page, re.S).group(0)
    assert "no recent vitals" in bob_row
    assert client.get("/ui/patients?sort=news2").text.index("Ann Jones") < client.get("/ui/patients?sort=news2").text.index("Bob Brown")


def test_patient_page_shows_chart_stores_and_audits_news2(client, ui_app, sign_in):
    sign_in("drsmith")
    ann = ui_app.state.test_patients["ann"]
    response = client.get(f"/ui/patients/{ann}")
    assert response.status_code == 200
    page = response.text
    assert 'id="vitals-timeline"' in page and "<svg" in page
    for loinc in TIMELINE_LOINCS:
        assert f'data-loinc="{loinc}"' in page
    assert page.count('class="point') >= 5 * 12
    assert "Time (UTC)" in page
    # NEWS2 with its explanation and the model's identity
    assert 'id="news2-explanation"' in page
    assert "NEWS2 8: high clinical risk" in page
    for parameter in ("Heart rate", "Respiratory rate", "SpO2", "Temperature", "Systolic BP"):
        assert parameter in page
    assert "Consciousness assumed Alert" in page
    assert "news2" in page and "stored and audited" in page
    # the rest of the chart
    for text in ("Community-acquired pneumonia", "J18.9", "amoxicillin 500 mg capsule", "Penicillin G",
                 "Crackles at the right base", "Lactate"):
        assert text in page, text
    # stored and audited
    with ui_app.state.engine.connect() as connection:
        stored = connection.execute(select(predictions.c.model_id, predictions.c.value)
                                    .where(predictions.c.patient_id == ann, predictions.c.model_id == "news2")).all()
    assert stored == [("news2", 8.0)]
    actions = _audit_actions(ui_app, ann)
    assert ("ui:view-patient", "success", ann) in actions and ("predict:news2", "success", ann) in actions
    # a second view lists the first prediction among the past ones
    again = client.get(f"/ui/patients/{ann}").text
    history = re.search(r'<table class="table compact" id="past-predictions">.*?</table>', again, re.S).group(0)
    assert history.count("</td><td>news2</td>") == 2  # (a sepsis row per view too, when that model is installed)


def test_patient_without_recent_vitals_gets_no_news2(client, ui_app, sign_in):
    sign_in("drsmith")
    response = client.get(f"/ui/patients/{ui_app.state.test_patients['bob']}")
    assert response.status_code == 200
    assert "fewer than 3 vital signs" in response.text
    assert "no measurements in this window" in response.text


def test_unknown_patient_is_404(client, sign_in):
    sign_in("drsmith")
    response = client.get("/ui/patients/no-such-patient")
    assert response.status_code == 404
    assert "Patient not found" in response.text


def test_news2_package_missing_is_shown_gracefully(client, ui_app, sign_in, monkeypatch):
    from medai.service.ui import views

    monkeypatch.setattr(views, "load_news2", lambda: views.News2Model(error="model 'news2' not found"))
    sign_in("drsmith")
    assert "NEWS2 unavailable" in client.get("/ui/patients").text
    page = client.get(f"/ui/patients/{ui_app.state.test_patients['ann']}")
    assert page.status_code == 200
    assert "NEWS2 unavailable" in page.text and 'id="vitals-timeline"' in page.text


def test_models_list_and_card(client, sign_in):
    sign_in("drsmith")
    response = client.get("/ui/models")
    assert response.status_code == 200
    assert "news2" in response.text
    card = client.get("/ui/models/news2")
    assert card.status_code == 200
    assert 'id="model-card"' in card.text and "srcdoc=" in card.text
    assert client.get("/ui/models/no-such-model").status_code == 404


def test_patient_data_is_html_escaped(client, ui_app, sign_in, bundle_factory):
    from medai.store.ingest import ingest_bundle

    pid, bundle = bundle_factory("<script>alert(1)</script>", "Eve", "MRN-<b>9</b>", hours=2)
    with ui_app.state.engine.begin() as connection:
        ingest_bundle(connection, bundle)
    sign_in("drsmith")
    for path in ("/ui/patients", f"/ui/patients/{pid}"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "MRN-&lt;b&gt;9&lt;/b&gt;" in page
