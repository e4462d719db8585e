"""The imaging pages without a browser: who may see and use them, the redirect to the stored read, errors in the form."""

from __future__ import annotations

import re

from tests.service.test_imaging_api import MODEL, chest_png, pneumonia_model  # noqa: F401 (fixture)


def _post(client, model: str = MODEL, data: bytes | None = None, filename: str = "chest.png", **fields):
    return client.post("/ui/imaging", data={"model": model, **fields}, files={"file": (filename, data or chest_png())})


def test_clinician_read_redirects_to_the_stored_read(client, sign_in, ui_app, pneumonia_model):  # noqa: F811
    sign_in("drsmith")
    form = client.get("/ui/imaging")
    assert form.status_code == 200 and 'id="imaging-form"' in form.text and "Ann Jones" in form.text
    response = _post(client, patient=ui_app.state.test_patients["ann"])
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/ui/imaging/reports/[0-9a-f-]{36}", location)
    page = client.get(location)
    assert page.status_code == 200
    assert 'id="imaging-probability"' in page.text and f"/api/v1/imaging/reports/{location.rsplit('/', 1)[1]}/overlay" in page.text
    assert pneumonia_model.package.version in page.text

    client.post("/ui/logout")
    sign_in("alice")  # Ann Jones herself may read her report
    assert client.get(location).status_code == 200


def test_form_errors_are_shown_with_their_status(client, sign_in, pneumonia_model):  # noqa: F811
    sign_in("drsmith")
    bad = _post(client, data=b"not an image", filename="notes.txt")
    assert bad.status_code == 422 and "notes.txt: not a DICOM, NIfTI, PNG or JPEG file" in bad.text
    unknown = _post(client, model="kidney-stones")
    assert unknown.status_code == 404 and "unknown imaging model" in unknown.text


def test_who_may_use_the_pages(client, sign_in, ui_app, pneumonia_model):  # noqa: F811
    assert client.get("/ui/imaging").status_code == 303  # not signed in: to the sign-in page
    sign_in("root")
    assert "Only clinicians may run image reads" in client.get("/ui/imaging").text
    assert _post(client).status_code == 403
    client.post("/ui/logout")
    sign_in("drsmith")
    anonymous = _post(client).headers["location"]
    client.post("/ui/logout")
    sign_in("alice")
    assert client.get("/ui/imaging").status_code == 403
    assert client.get(anonymous).status_code == 403  # a read linked to no patient is not hers
