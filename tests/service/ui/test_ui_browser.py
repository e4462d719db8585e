"""The web UI in headless Chromium: sign in, open a patient, see the vitals timeline and the NEWS2 explanation;
open the ward, see it ranked by sepsis risk, and open a patient's sepsis risk timeline.

Screenshots go to the test's tmp_path, and also to ``$MEDAI_UI_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.service.ui.conftest import served

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _demo_bundles(bundle_factory) -> list[dict]:
    """Four synthetic inpatients from ``medai.demo`` when it is installed, else a small hand-made pair."""
    try:
        from medai.demo import generate_hospital
    except ImportError:
        try:
            from medai.demo.generator import generate_hospital
        except ImportError:
            generate_hospital = None
    if generate_hospital is not None:
        return generate_hospital(n_patients=4, seed=1)
    return [bundle_factory("Jones", "Ann", "MRN-0001")[1], bundle_factory("Brown", "Bob", "MRN-0002")[1]]


def _serve(tmp_path, bundles: list[dict]):
    """The app served by uvicorn on a free localhost port with ``bundles`` and a clinician; yields the base URL."""
    from medai.store.accounts import add_user
    from medai.store.ingest import ingest_bundle

    def prepare(app) -> None:
        with app.state.engine.begin() as connection:
            for bundle in bundles:
                ingest_bundle(connection, bundle)
            add_user(connection, "drsmith", "clinician", password="a long test password")

    for base_url, _ in served(tmp_path, prepare):
        yield base_url


@pytest.fixture
def live_server(tmp_path, bundle_factory):
    """The app served by uvicorn on a free localhost port, with demo patients and a clinician."""
    yield from _serve(tmp_path, _demo_bundles(bundle_factory))


@pytest.fixture
def ward_server(tmp_path, bundle_factory, monkeypatch):
    """Like ``live_server`` plus a deteriorating (Dan Fever) and a stable (Sam Steady) patient, scored by the
    shipped sepsis model, or by the conftest's stub model while that package is not installed."""
    from medai.service.routers import sepsis as sepsis_router

    from .conftest import make_sepsis_bundle, stub_sepsis_model

    if sepsis_router.sepsis_model() is None:
        stub = stub_sepsis_model()
        monkeypatch.setattr(sepsis_router, "sepsis_model", lambda: stub)
    bundles = _demo_bundles(bundle_factory)
    bundles += [make_sepsis_bundle("Fever", "Dan", "MRN-0003", deteriorating=True, location="Ward 7B bed 3")[1],
                make_sepsis_bundle("Steady", "Sam", "MRN-0004", deteriorating=False, location="Ward 7B bed 4")[1]]
    yield from _serve(tmp_path, bundles)


def _screenshot(page, tmp_path: Path, name: str, **kwargs) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), **kwargs)
    target = os.environ.get("MEDAI_UI_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)
    return path


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no system chromium on PATH")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_clinician_signs_in_and_reads_a_patient_chart(live_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(15_000)

    page.goto(f"{live_server}/ui/patients")
    page.wait_for_url("**/ui/login**")
    page.fill("#username", "drsmith")
    page.fill("#password", "a long test password")
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/patients")
    rows = page.locator("#patient-table tbody tr")
    assert rows.count() >= 2
    assert page.locator("#patient-table .badge").first.is_visible()

    page.locator("a.patient-link").first.click()
    page.wait_for_url("**/ui/patients/*")

    timeline = page.locator("#vitals-timeline svg")
    timeline.wait_for(state="visible")
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    for loinc in ("8867-4", "9279-1", "59408-5", "8310-5", "8480-6"):
        assert page.locator(f'#vitals-timeline [data-loinc="{loinc}"]').count() == 1
    assert page.locator("#vitals-timeline circle.point").count() >= 5 * 10
    assert page.locator("#vitals-timeline [data-loinc='8867-4'] circle.point").first.is_visible()

    prediction = page.locator("#news2-prediction")
    assert prediction.is_visible()
    assert "NEWS2" in prediction.locator(".score-label").inner_text()
    explanation = page.locator("#news2-explanation")
    assert explanation.is_visible()
    assert explanation.locator("tbody tr").count() >= 3
    assert "Heart rate" in explanation.inner_text()
    assert "Consciousness assumed Alert" in prediction.inner_text()
    assert "news2" in page.locator("#news2-model").inner_text()

    assert _screenshot(page, tmp_path, "patient.png", full_page=True).stat().st_size > 10_000
    page.close()


def _sign_in(page, base_url: str, path: str) -> None:
    page.goto(f"{base_url}{path}")
    page.wait_for_url("**/ui/login**")
    page.fill("#username", "drsmith")
    page.fill("#password", "a long test password")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def test_clinician_opens_the_ward_and_a_sepsis_risk_timeline(ward_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(20_000)
    _sign_in(page, ward_server, "/ui/patients")

    page.click("#nav-ward")
    page.wait_for_url("**/ui/ward")
    rows = page.locator("#ward-table tbody tr")
    assert rows.count() >= 3
    risks = [float(value) for value in rows.evaluate_all("rows => rows.map(r => r.dataset.risk)")]
    assert risks == sorted(risks, reverse=True)
    names = rows.locator("a.patient-link").all_inner_texts()
    assert names.index("Dan Fever") < names.index("Sam Steady")
    assert page.locator("#ward-table .sepsis-badge").first.is_visible()
    assert page.locator("#ward-table svg.sparkline").first.is_visible()
    _screenshot(page, tmp_path, "ward.png", full_page=True)

    rows.filter(has_text="Dan Fever").locator("a.patient-link").click()
    page.wait_for_url("**/ui/patients/*")
    panel = page.locator("#sepsis-risk")
    panel.scroll_into_view_if_needed()
    timeline = page.locator("#sepsis-timeline svg")
    timeline.wait_for(state="visible")
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 120
    points = int(page.locator("#sepsis-timeline").get_attribute("data-points"))
    assert points >= 72  # 72 h of vitals, plus any hours between admission and the first vital
    assert page.locator("#sepsis-timeline circle.risk-point").count() == points
    threshold = page.locator("#sepsis-timeline line.threshold").bounding_box()  # a flat line: zero height
    assert threshold is not None and threshold["width"] > 400
    assert page.locator("#sepsis-timeline .alert-marker").count() >= 1
    factors = page.locator("#sepsis-factors li")
    assert factors.count() >= 1 and factors.first.is_visible()
    assert "Lactate 4.1 mmol/L" in page.locator("#sepsis-factors").inner_text()
    assert "sepsis-ews" in page.locator("#sepsis-model").inner_text()
    assert _screenshot(panel, tmp_path, "sepsis-panel.png").stat().st_size > 10_000
    _screenshot(page, tmp_path, "patient-sepsis.png", full_page=True)
    page.close()
