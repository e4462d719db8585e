"""The prescriber page: in headless Chromium a clinician opens it from the navigation, chooses a patient with poor
kidney function, types a full-dose dabigatran order and sees each recommendation with its reasons, evidence, limits
and suggested dose; an unknown drug and an unreadable dose get clear messages. Without a browser: staff only.

Screenshots go to the test's tmp_path, and also to ``$MEDAI_UI_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import pytest

from tests.service.ui.test_ui_browser import _screenshot, _serve, _sign_in, browser  # noqa: F401 (fixture)
from tests.treatment import order_fixtures as f


@pytest.fixture
def prescriber_server(tmp_path):
    """The app on a free port with Rita Renal (creatinine 2.5 mg/dL, on lisinopril, type 2 diabetes) and ``drsmith``."""
    resources = f.renal_patient()
    pid = resources[0]["id"]
    resources.append({"resourceType": "Condition", "id": "c-t2d", "subject": {"reference": f"Patient/{pid}"},
                      "clinicalStatus": {"coding": [{"code": "active"}]},
                      "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006", "display": "Type 2 diabetes"}]}})
    resources.append(f.observation(pid, "4548-4", 8.4, "%", 48, "HbA1c"))
    yield from _serve(tmp_path, [f.transaction(resources)])


@pytest.mark.browser
def test_clinician_reviews_an_order_and_reads_each_recommendation(prescriber_server, browser, tmp_path):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(20_000)
    _sign_in(page, prescriber_server, "/ui/patients")

    page.click("#nav-treatment")
    page.wait_for_url("**/ui/treatment")
    page.select_option("#patient", label="Rita Renal · MRN-RENAL")
    page.fill("#drug", "dabigatran 150 mg capsule")
    page.fill("#dose", "150")
    page.select_option("#frequency", "q12h")
    page.click("#treatment-submit")

    results = page.locator("#treatment-results")
    results.wait_for(state="visible")
    renal = page.locator('.recommendation[data-kind="renal"]')
    assert renal.get_attribute("data-indicator") == "warning"
    assert "Reduce dabigatran to 75 mg q12h" in renal.locator(".rec-summary").inner_text()
    assert "CrCl" in renal.locator(".rec-reasons").inner_text()
    assert "PRADAXA" in renal.locator(".rec-citations").inner_text()
    assert renal.locator(".rec-limits li").count() >= 1
    suggestion = renal.locator(".rec-suggestion")
    assert suggestion.get_attribute("data-action") == "update" and "75 mg q12h" in suggestion.inner_text()
    assert page.locator("#regimen-plans .regimen-plan").count() >= 1
    assert page.locator("#regimen-plans .plan-option").count() >= 1
    assert "Serum creatinine 2.5 mg/dL" in page.locator("#treatment-record").inner_text()
    assert _screenshot(page, tmp_path, "treatment-review.png", full_page=True).stat().st_size > 10_000

    page.fill("#drug", "losartan 50 mg")
    page.fill("#dose", "50")
    page.select_option("#frequency", "q24h")
    page.click("#treatment-submit")
    page.locator("#treatment-results").wait_for(state="visible")
    interaction = page.locator('.recommendation[data-kind="interaction"]')
    assert "lisinopril + losartan" in interaction.locator(".rec-summary").inner_text()
    assert "ACE inhibitor" in interaction.locator(".rec-reasons").inner_text()

    page.fill("#drug", "zorblaxin")
    page.fill("#dose", "20")
    page.click("#treatment-submit")
    unknown = page.locator('.recommendation[data-kind="unrecognised"]')
    unknown.wait_for(state="visible")
    assert "does not recognise" in unknown.inner_text() and unknown.locator(".rec-suggestion").count() == 0

    page.fill("#drug", "dabigatran")
    page.fill("#dose", "lots")
    page.click("#treatment-submit")
    error = page.locator("#treatment-error")
    error.wait_for(state="visible")
    assert "dose: 'lots' is not a dose amount" in error.inner_text()
    _screenshot(page, tmp_path, "treatment-form-error.png", full_page=True)
    page.close()


def test_prescriber_page_is_for_staff(client, sign_in, ui_app):
    sign_in("alice")
    assert client.get("/ui/treatment").status_code == 403
    client.post("/ui/logout")
    sign_in("drsmith")
    page = client.get(f"/ui/treatment?patient={ui_app.state.test_patients['ann']}")
    assert page.status_code == 200 and 'id="treatment-form"' in page.text and 'id="nav-treatment"' in page.text
    ann = ui_app.state.test_patients["ann"]
    reviewed = client.post("/ui/treatment", data={"patient": ann, "drug": "dabigatran 150 mg", "dose": "150", "unit": "mg",
                                                  "frequency": "q12h", "route": "oral"})
    assert reviewed.status_code == 200 and "no creatinine in the last 90 days" in reviewed.text
    assert client.post("/ui/treatment", data={"patient": "", "drug": "", "dose": ""}).status_code == 422
    assert client.post("/ui/treatment", data={"patient": "nobody", "drug": "x", "dose": "1"}).status_code == 404
