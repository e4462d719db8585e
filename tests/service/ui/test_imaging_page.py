"""The imaging page in headless Chromium: a clinician opens it from the navigation, uploads a chest image, and sees
the stored read: the probability with the threshold, the finding, the Grad-CAM overlay image and the model version.
A file that is not an image gets the form back with the problem named.

Screenshots go to the test's tmp_path, and also to ``$MEDAI_UI_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import pytest

from tests.service.test_imaging_api import MODEL, chest_png, pneumonia_model  # noqa: F401 (fixture)
from tests.service.ui.test_ui_browser import _screenshot, _serve, _sign_in, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def imaging_server(tmp_path, bundle_factory, pneumonia_model):  # noqa: F811
    """The app on a free port with one patient (Ann Jones) and the clinician ``drsmith``."""
    yield from _serve(tmp_path, [bundle_factory("Jones", "Ann", "MRN-0001")[1]])


def test_clinician_uploads_an_image_and_reads_the_finding(imaging_server, browser, tmp_path, pneumonia_model):  # noqa: F811
    image = tmp_path / "chest.png"
    image.write_bytes(chest_png())
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(20_000)
    _sign_in(page, imaging_server, "/ui/patients")

    page.click("#nav-imaging")
    page.wait_for_url("**/ui/imaging")
    page.select_option("#model", MODEL)
    page.select_option("#patient", label="Ann Jones · MRN-0001")
    page.set_input_files("#file", str(image))
    page.click("#imaging-submit")
    page.wait_for_url("**/ui/imaging/reports/*")

    probability = page.locator("#imaging-probability")
    assert probability.is_visible() and probability.inner_text().endswith("%")
    value = float(probability.get_attribute("data-probability"))
    threshold = float(page.locator("#imaging-threshold").get_attribute("data-threshold"))
    assert 0 <= value <= 1 and threshold == pytest.approx(pneumonia_model.threshold, abs=1e-4)
    assert page.locator("#imaging-verdict").inner_text() == ("positive" if value >= threshold else "negative")
    assert "pneumonia" in page.locator("#imaging-finding-label").inner_text()

    overlay = page.locator("#imaging-overlay")
    overlay.wait_for(state="visible")
    page.wait_for_function("() => { const img = document.getElementById('imaging-overlay');"
                           " return img.complete && img.naturalWidth > 0; }")
    size = overlay.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] > 2 * size[1] * 0.9 and size[1] >= 200  # the input beside its heat map, upscaled
    box = overlay.bounding_box()
    assert box is not None and box["width"] > 300

    assert page.locator("#imaging-model-version").inner_text() == pneumonia_model.package.version
    assert page.locator("#imaging-model-card").get_attribute("href").startswith(f"/ui/models/{MODEL}")
    assert page.locator("#imaging-limitations li").count() >= 1
    assert page.locator("a.patient-link").inner_text() == "Ann Jones"
    assert _screenshot(page, tmp_path, "imaging-read.png", full_page=True).stat().st_size > 10_000

    page.goto(f"{imaging_server}/ui/imaging")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not an image")
    page.set_input_files("#file", str(text_file))
    page.click("#imaging-submit")
    error = page.locator("#imaging-error")
    error.wait_for(state="visible")
    assert "notes.txt: not a DICOM, NIfTI, PNG or JPEG file" in error.inner_text()
    assert page.locator("#imaging-models").inner_text().count(MODEL) >= 1
    _screenshot(page, tmp_path, "imaging-form-error.png", full_page=True)
    page.close()
