"""The sepsis early-warning views: the risk panel on the patient page, the ward view and the risk timeline SVG.

Most tests use ``stub_sepsis`` (a small LightGBM trained on made-up rows, see conftest) so they do not
depend on the shipped package; ``shipped_sepsis`` tests run against the real ``sepsis-ews`` package and
are skipped until it is installed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import select

from medai.service.ui.timeline import risk_sparkline, risk_timeline
from medai.store.schema import audit_log, predictions

SVG = "{http://www.w3.org/2000/svg}"
END = datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)
START = END - timedelta(days=7)


def _audit(app, action: str) -> list[tuple[str, str, str | None, str | None]]:
    query = (select(audit_log.c.action, audit_log.c.outcome, audit_log.c.patient_id, audit_log.c.model_id)
             .where(audit_log.c.action == action).order_by(audit_log.c.seq))
    with app.state.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def _stored(app, patient_id: str) -> list[tuple[str, float, float]]:
    query = (select(predictions.c.model_id, predictions.c.value, predictions.c.threshold)
             .where(predictions.c.patient_id == patient_id))
    with app.state.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def _panel(page: str) -> str:
    return re.search(r'<section class="card sepsis-card" id="sepsis-risk".*?</section>', page, re.S).group(0)


def _ward_rows(page: str) -> list[tuple[str, float | None]]:
    """(patient id, risk) of each ward row, in page order."""
    return [(pid, float(risk) if risk else None)
            for pid, risk in re.findall(r'<tr data-patient-id="([^"]+)" data-risk="([^"]*)"', page)]


# -- the risk timeline SVG --------------------------------------------------------------------

def _week(risks: list[float], alerts: list[bool] | None = None):
    hours = [END - timedelta(hours=len(risks) - 1 - i) for i in range(len(risks))]
    return hours, np.array(risks), np.array(alerts if alerts is not None else [False] * len(risks))


def test_risk_timeline_draws_every_hour_the_dashed_threshold_and_alert_markers():
    risks = [0.05] * 100 + [0.1 + 0.01 * i for i in range(68)]
    alerts = [False] * 160 + [True] + [False] * 7
    hours, risks, alerts = _week(risks, alerts)
    markup = risk_timeline(hours, risks, alerts, 0.2, START, END)
    root = ET.fromstring(str(markup))  # well-formed
    assert root.get("data-points") == "168" and root.get("data-alerts") == "1"
    points = [c for c in root.iter(f"{SVG}circle") if "risk-point" in (c.get("class") or "")]
    assert len(points) == 168
    threshold = [line for line in root.iter(f"{SVG}line") if line.get("class") == "threshold"]
    assert len(threshold) == 1 and threshold[0].get("stroke-dasharray")
    markers = [g for g in root.iter(f"{SVG}g") if g.get("class") == "alert-marker"]
    assert len(markers) == 1 and markers[0].get("data-time") == hours[160].isoformat()
    assert any(c.get("class") == "alert-dot" for c in markers[0].iter(f"{SVG}circle"))
    # later is to the right, higher risk is higher up; the threshold line sits at 20%
    xs = [float(c.get("cx")) for c in points]
    assert xs == sorted(xs)
    ys = {float(c.get("data-risk")): float(c.get("cy")) for c in points}
    assert ys[0.05] > ys[0.2] > ys[0.77]
    assert float(threshold[0].get("y1")) == pytest.approx(ys[0.2], abs=0.2)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "threshold 20%" in texts
    assert sum(1 for t in texts if t and re.fullmatch(r"\d\d [A-Z][a-z]{2}", t)) >= 6  # one date label per day


def test_risk_timeline_levels_window_and_empty_state():
    hours, risks, alerts = _week([0.01, 0.12, 0.5])
    root = ET.fromstring(str(risk_timeline(hours, risks, alerts, 0.2, START, END)))
    levels = [c.get("class") for c in root.iter(f"{SVG}circle") if "risk-point" in (c.get("class") or "")]
    assert levels == ["risk-point level-low", "risk-point level-moderate", "risk-point level-high"]
    early = [END - timedelta(days=9)]  # outside the window: not drawn
    root = ET.fromstring(str(risk_timeline(early, np.array([0.3]), np.array([True]), 0.2, START, END)))
    assert root.get("data-points") == "0"
    assert "no risk scores in this window" in [t.text for t in root.iter(f"{SVG}text")]
    with pytest.raises(ValueError, match="end > start"):
        risk_timeline([], np.array([]), np.array([]), 0.2, END, END)


def test_sparkline_is_well_formed():
    root = ET.fromstring(str(risk_sparkline([0.05, 0.1, 0.3], 0.2)))
    assert root.get("data-points") == "3"
    assert root.find(f"{SVG}polyline") is not None
    assert "level-high" in root.find(f"{SVG}circle").get("class")


# -- the patient page -------------------------------------------------------------------------

def test_patient_page_shows_sepsis_timeline_risk_factors_and_model(client, ui_app, sign_in, sepsis_patients, stub_sepsis):
    sign_in("drsmith")
    dan = sepsis_patients["dan"]
    response = client.get(f"/ui/patients/{dan}")
    assert response.status_code == 200
    panel = _panel(response.text)
    assert "Sepsis risk" in panel
    timeline = re.search(r'<div id="sepsis-timeline"[^>]*data-points="(\d+)"[^>]*>(<svg.*?</svg>)</div>', panel, re.S)
    assert timeline is not None
    assert int(timeline.group(1)) >= 72  # 72 hourly scores, from admission (the in-progress Encounter) on
    svg = ET.fromstring(timeline.group(2))
    assert svg.get("data-points") == timeline.group(1)
    assert any(line.get("class") == "threshold" for line in svg.iter(f"{SVG}line"))
    assert int(svg.get("data-alerts")) >= 1  # the deterioration fired the alert policy
    assert any(g.get("class") == "alert-marker" for g in svg.iter(f"{SVG}g"))
    # current risk, high badge, factors in clinical words
    assert 'id="sepsis-score" data-level="high"' in panel
    assert re.search(r'class="badge sepsis-badge risk-high badge-large" data-level="high"', response.text)
    factors = re.search(r'<ol class="factors" id="sepsis-factors">.*?</ol>', panel, re.S).group(0)
    assert re.search(r"Lactate 4\.1 mmol/L, up from 1\.8 \d+ h ago", factors)  # hours depend on the clock's minute
    assert "Heart rate 126 /min" in factors
    assert "mm[Hg]" not in factors  # units as people write them
    # the model's identity
    model = re.search(r'<dl class="model-id small" id="sepsis-model">.*?</dl>', panel, re.S).group(0)
    assert "sepsis-ews" in model and "v0.0.0-test" in model and "5e5e5e5e5e5e…" in model
    assert "stored and audited" in model
    # stored and audited like any prediction
    stored = [row for row in _stored(ui_app, dan) if row[0] == "sepsis-ews"]
    assert len(stored) == 1 and stored[0][1] >= 0.4 and stored[0][2] == pytest.approx(0.4)
    assert ("predict:sepsis", "success", dan, "sepsis-ews") in _audit(ui_app, "predict:sepsis")


def test_stable_patient_has_a_low_sepsis_risk(client, sign_in, sepsis_patients, stub_sepsis):
    sign_in("drsmith")
    panel = _panel(client.get(f"/ui/patients/{sepsis_patients['sam']}").text)
    assert 'id="sepsis-score" data-level="low"' in panel
    assert 'data-alerts="0"' in panel


def test_patient_without_vitals_or_labs_this_week_gets_no_sepsis_risk(client, ui_app, sign_in, stub_sepsis, bundle_factory):
    from medai.store.ingest import ingest_bundle

    old, bundle = bundle_factory("Old", "Olive", "MRN-0009", hours=3, now=datetime.now(timezone.utc) - timedelta(days=10))
    with ui_app.state.engine.begin() as connection:
        ingest_bundle(connection, bundle)
    sign_in("drsmith")
    response = client.get(f"/ui/patients/{old}")
    assert response.status_code == 200
    panel = _panel(response.text)
    assert "no vitals or labs in the last 7 days" in panel
    assert 'id="sepsis-timeline"' not in panel
    assert not [row for row in _stored(ui_app, old) if row[0] == "sepsis-ews"]


def test_sepsis_model_not_installed_is_shown(client, ui_app, sign_in, sepsis_patients, no_sepsis):
    sign_in("drsmith")
    dan = sepsis_patients["dan"]
    response = client.get(f"/ui/patients/{dan}")
    assert response.status_code == 200
    assert "Sepsis model not installed" in _panel(response.text)
    assert 'id="vitals-timeline"' in response.text and 'id="news2-explanation"' in response.text  # the rest still works
    assert not [row for row in _stored(ui_app, dan) if row[0] == "sepsis-ews"]
    ward = client.get("/ui/ward")
    assert ward.status_code == 200
    assert "Sepsis model not installed" in ward.text
    rows = _ward_rows(ward.text)
    assert rows and all(risk is None for _, risk in rows)
    assert rows[0][0] == dan  # ranked by NEWS2 instead (Dan's NEWS2 is the highest)


def test_sepsis_model_not_installed_through_the_cached_loader(client, sign_in, sepsis_patients, monkeypatch):
    """The UI goes through ``medai.service.routers.sepsis.sepsis_model``: no package -> None -> the notice."""
    from medai.models import ModelNotFoundError
    from medai.service.routers import sepsis as sepsis_router

    def missing(*args, **kwargs):
        raise ModelNotFoundError("no model 'sepsis-ews'", "installed: news2")

    sepsis_router.sepsis_model.cache_clear()
    monkeypatch.setattr(sepsis_router, "default_registry", lambda: type("Registry", (), {"get": staticmethod(missing)})())
    try:
        sign_in("drsmith")
        assert "Sepsis model not installed" in client.get(f"/ui/patients/{sepsis_patients['dan']}").text
    finally:
        sepsis_router.sepsis_model.cache_clear()


def test_broken_sepsis_package_is_reported_not_raised(client, sign_in, sepsis_patients, monkeypatch):
    from medai.models import ModelPackageError
    from medai.service.routers import sepsis as sepsis_router

    def broken():
        raise ModelPackageError("/models/sepsis-ews-1.0.0", ["lightgbm.json: sha256 mismatch"])

    monkeypatch.setattr(sepsis_router, "sepsis_model", broken)
    sign_in("drsmith")
    page = client.get(f"/ui/patients/{sepsis_patients['dan']}")
    assert page.status_code == 200
    assert "does not load" in page.text and "sha256 mismatch" in page.text


def test_patient_user_sees_their_own_sepsis_risk(client, ui_app, sign_in, stub_sepsis):
    sign_in("alice")
    page = client.get(f"/ui/patients/{ui_app.state.test_patients['ann']}")
    assert page.status_code == 200
    assert 'id="sepsis-timeline"' in page.text
    assert 'id="nav-ward"' not in page.text  # no ward link for patients


# -- the ward ---------------------------------------------------------------------------------

def test_ward_lists_recent_patients_by_sepsis_risk_highest_first(client, ui_app, sign_in, sepsis_patients, stub_sepsis,
                                                                 bundle_factory):
    from medai.store.ingest import ingest_bundle

    old, bundle = bundle_factory("Old", "Olive", "MRN-0009", hours=3, now=datetime.now(timezone.utc) - timedelta(days=3))
    with ui_app.state.engine.begin() as connection:
        ingest_bundle(connection, bundle)
    sign_in("drsmith")
    response = client.get("/ui/ward")
    assert response.status_code == 200
    page = response.text
    assert 'id="nav-ward" class="active"' in page
    rows = _ward_rows(page)
    ids = [pid for pid, _ in rows]
    risks = [risk for _, risk in rows]
    assert all(risk is not None for risk in risks)
    assert risks == sorted(risks, reverse=True)
    assert ids[0] == sepsis_patients["dan"] and ids[-1] == sepsis_patients["sam"]
    assert ui_app.state.test_patients["ann"] in ids
    assert old not in ids and "1 other without recent data" in page  # no data in the last 24 h
    dan_row = re.search(rf'<tr data-patient-id="{sepsis_patients["dan"]}".*?</tr>', page, re.S).group(0)
    assert re.search(r"Lactate 4\.1 mmol/L, up from 1\.8 \d+ h ago", dan_row)
    for text in ("Dan Fever", "Ward 7B bed 3", 'data-level="high"',
                 'class="badge risk-high" title="NEWS2', f'href="/ui/patients/{sepsis_patients["dan"]}', "<svg"):
        assert text in dan_row, text
    sam_row = re.search(rf'<tr data-patient-id="{sepsis_patients["sam"]}".*?</tr>', page, re.S).group(0)
    assert 'data-level="low"' in sam_row and 'data-score="0"' in sam_row
    # the page view is audited; the ward's risks are not stored one by one
    assert [(a, o) for a, o, _, _ in _audit(ui_app, "ui:ward")] == [("ui:ward", "success")]
    assert _audit(ui_app, "predict:sepsis") == []


def test_ward_is_not_for_patients(client, ui_app, sign_in):
    sign_in("alice")
    response = client.get("/ui/ward")
    assert response.status_code == 403
    assert "Jones" not in response.text and "ward-table" not in response.text
    assert [(a, o) for a, o, _, _ in _audit(ui_app, "ui:ward")] == [("ui:ward", "denied")]


def test_ward_needs_sign_in_and_is_in_the_nav(client, sign_in):
    response = client.get("/ui/ward")
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/login?next=/ui/ward")
    sign_in("root")
    assert 'href="/ui/ward"' in client.get("/ui/patients").text
    assert client.get("/ui/ward").status_code == 200


def test_empty_ward(client, ui_app, sign_in, stub_sepsis):
    from sqlalchemy import delete

    from medai.store.schema import observations

    with ui_app.state.engine.begin() as connection:
        connection.execute(delete(observations))
    sign_in("drsmith")
    page = client.get("/ui/ward").text
    assert "No patients with vitals or labs in the last 24 hours" in page


def test_ward_data_is_html_escaped(client, ui_app, sign_in, stub_sepsis, bundle_factory):
    from medai.store.ingest import ingest_bundle

    _, bundle = bundle_factory("<script>alert(1)</script>", "Eve", "MRN-<b>9</b>", hours=2)
    with ui_app.state.engine.begin() as connection:
        ingest_bundle(connection, bundle)
    sign_in("drsmith")
    page = client.get("/ui/ward").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- with the shipped sepsis-ews package ------------------------------------------------------

def test_shipped_model_panel_renders_with_svg_and_factors(client, ui_app, sign_in, sepsis_patients, shipped_sepsis):
    sign_in("drsmith")
    dan = sepsis_patients["dan"]
    response = client.get(f"/ui/patients/{dan}")
    assert response.status_code == 200
    panel = _panel(response.text)
    points = re.search(r'<div id="sepsis-timeline"[^>]*data-points="(\d+)"', panel)
    assert points and int(points.group(1)) >= 72
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", panel, re.S).group(0))
    assert svg.get("data-points") == points.group(1)
    assert any(line.get("class") == "threshold" for line in svg.iter(f"{SVG}line"))
    factors = re.search(r'<ol class="factors" id="sepsis-factors">(.*?)</ol>', panel, re.S)
    assert factors is not None and factors.group(1).count("<li") >= 1
    identity = shipped_sepsis.identity
    assert f"v{identity.model_version}" in panel and identity.weights_sha256[:12] in panel
    assert [row[0] for row in _stored(ui_app, dan)].count(identity.model_id) == 1


def test_shipped_model_ranks_the_deteriorating_patient_above_the_stable_one(client, sign_in, sepsis_patients,
                                                                          shipped_sepsis):
    sign_in("drsmith")
    rows = dict(_ward_rows(client.get("/ui/ward").text))
    dan, sam = rows[sepsis_patients["dan"]], rows[sepsis_patients["sam"]]
    assert dan > sam and dan >= 2 * sam, (dan, sam)
    ids = [pid for pid, _ in _ward_rows(client.get("/ui/ward").text)]
    assert ids.index(sepsis_patients["dan"]) < ids.index(sepsis_patients["sam"])
