"""The imaging API: read an uploaded PNG / DICOM with the shipped pneumonia-cxr model; the FHIR resources, the
prediction and the audit record are stored; bad requests get a 4xx OperationOutcome naming the problem and write nothing."""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest
from fastapi import HTTPException
from sqlalchemy import func, select

from medai.core.fhir import validate_resource
from medai.store.audit import recent
from medai.store.clinical import get_resource
from medai.store.schema import audit_log, predictions, resources

MODEL = "pneumonia-cxr"
PREDICT = f"/api/v1/imaging/{MODEL}/predict"


@pytest.fixture(scope="module")
def pneumonia_model():
    """The shipped pneumonia-cxr package; the module is skipped until it is installed."""
    from medai.service.imaging_reads import imaging_model

    try:
        return imaging_model(MODEL)
    except HTTPException as error:
        pytest.skip(str(error.detail))


def chest_png(seed: int = 0, size: int = 64) -> bytes:
    """A synthetic grey 'chest' PNG: two dark lung fields in a bright body, with noise."""
    from PIL import Image as PILImage

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    body = 0.8 - 0.5 * (((xx - 0.3) / 0.16) ** 2 + ((yy - 0.5) / 0.3) ** 2 < 1) \
               - 0.5 * (((xx - 0.7) / 0.16) ** 2 + ((yy - 0.5) / 0.3) ** 2 < 1)
    pixels = np.clip(body + rng.normal(0, 0.05, body.shape), 0, 1)
    buffer = io.BytesIO()
    PILImage.fromarray((pixels * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def chest_dicom(study_uid: str) -> bytes:
    """The synthetic chest as a CR DICOM file with the given StudyInstanceUID."""
    from PIL import Image as PILImage
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    pixels = np.asarray(PILImage.open(io.BytesIO(chest_png(1)))).astype(np.uint16) * 16
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"  # Computed Radiography Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("chest.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.Modality, ds.BodyPartExamined, ds.PatientName = "CR", "CHEST", "Test^Person"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _counts(service) -> tuple[int, int, int]:
    with service.client.app.state.engine.connect() as connection:
        return tuple(connection.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (resources, predictions, audit_log))


def _upload(service, data: bytes, role: str = "clinician", filename: str = "chest.png", model: str = MODEL, **fields):
    return service.client.post(f"/api/v1/imaging/{model}/predict", files={"file": (filename, data, "application/octet-stream")},
                               data=fields, headers=service.headers(role, content_type=None))


def _problem(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return " | ".join(f"{i['expression'][0]}: {i['diagnostics']}" for i in body["issue"])


def test_models_lists_the_installed_imaging_models(service, pneumonia_model):
    response = service.client.get("/api/v1/imaging/models", headers=service.headers("clinician"))
    assert response.status_code == 200, response.text
    entry = next(m for m in response.json() if m["name"] == MODEL)
    assert entry["version"] == pneumonia_model.package.version and entry["threshold"] == pneumonia_model.threshold
    assert entry["classes"] == ["normal", "pneumonia"] and entry["summary"] and entry["limitations"]
    assert entry["predict_url"] == PREDICT and entry["model_card_url"].startswith(f"/ui/models/{MODEL}")
    assert all(m["name"] != "news2" for m in response.json())


def test_png_is_read_stored_as_fhir_recorded_and_audited(service, pneumonia_model):
    response = _upload(service, chest_png(), patient=f"Patient/{service.sick_patient}")
    assert response.status_code == 201, response.text
    body = response.json()
    package = pneumonia_model.package
    assert (body["model"], body["model_version"], body["weights_sha256"]) == (MODEL, package.version, package.weights_sha256)
    assert 0 <= body["positive_probability"] <= 1 and body["threshold"] == pneumonia_model.threshold
    assert body["positive"] == (body["positive_probability"] >= body["threshold"])
    assert sum(body["probabilities"].values()) == pytest.approx(1, abs=1e-4)
    assert body["source"] == "chest.png" and body["patient"] == f"Patient/{service.sick_patient}"
    assert body["explanation"]["method"] == "Grad-CAM" and body["fhir"]["DiagnosticReport"] in body["explanation"]["summary"]
    assert body["card"]["indicator"] == ("warning" if body["positive"] else "info")
    assert body["card"]["links"][0]["url"] == f"http://testserver{body['ui_url']}"

    engine = service.client.app.state.engine
    report_id = body["fhir"]["DiagnosticReport"].split("/")[1]
    with engine.connect() as connection:
        report = get_resource(connection, "DiagnosticReport", report_id)
        study = get_resource(connection, *body["fhir"]["ImagingStudy"].split("/"))
        finding = get_resource(connection, *body["fhir"]["Observation"][0].split("/"))
        row = connection.execute(select(predictions).where(predictions.c.id == body["prediction_id"])).mappings().one()
        audit = next(r for r in recent(connection) if r["action"] == f"predict:imaging:{MODEL}")
    for resource in (report, study, finding):
        validate_resource(resource)
        assert resource["subject"] == {"reference": f"Patient/{service.sick_patient}"}
    assert report["imagingStudy"] == [{"reference": body["fhir"]["ImagingStudy"]}]
    assert finding["derivedFrom"] == [{"reference": body["fhir"]["ImagingStudy"]}]
    assert finding["valueQuantity"]["value"] == pytest.approx(body["positive_probability"], abs=1e-4)
    assert (row["model_id"], row["model_version"], row["weights_sha256"]) == (MODEL, package.version, package.weights_sha256)
    assert row["input_hash"] == body["input_sha256"] and row["patient_id"] == service.sick_patient
    assert row["explanation"]["method"] == "Grad-CAM"
    assert (audit["actor"], audit["patient_id"], audit["model_version"]) == ("clinician", service.sick_patient, package.version)
    assert body["prediction_id"] in audit["detail"]

    overlay = service.client.get(body["overlay_url"], headers=service.headers("clinician", content_type=None))
    assert overlay.status_code == 200 and overlay.headers["content-type"] == "image/png"
    assert overlay.content.startswith(b"\x89PNG")

    cds = service.client.post("/cds-services/imaging-findings", headers=service.headers("clinician", "application/json"),
                              json={"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                                    "context": {"userId": "Practitioner/1", "patientId": service.sick_patient}})
    assert cds.status_code == 200, cds.text
    (card,) = cds.json()["cards"]
    assert card["uuid"] == report_id and card["summary"] == body["card"]["summary"]
    assert card["source"]["label"] == f"medai {MODEL} {package.version}"


def test_dicom_keeps_its_study_uid_and_modality(service, pneumonia_model):
    response = _upload(service, chest_dicom("1.2.826.0.1.3680043.2.1125.42"), filename="chest.dcm")
    assert response.status_code == 201, response.text
    body = response.json()
    with service.client.app.state.engine.connect() as connection:
        study = get_resource(connection, *body["fhir"]["ImagingStudy"].split("/"))
    assert study["identifier"][0]["value"] == "urn:oid:1.2.826.0.1.3680043.2.1125.42"
    assert study["modality"][0]["code"] == "CR" and study["series"][0]["bodySite"]["display"] == "CHEST"
    assert "Test^Person" not in str(study) and body["patient"] is None


def test_client_file_names_never_become_paths(service, pneumonia_model):
    response = _upload(service, chest_png(), filename="../../etc/cron.d/evil.png")
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "evil.png"


def test_unknown_model_is_404(service):
    before = _counts(service)
    assert "unknown imaging model 'kidney-stones'" in _problem(_upload(service, chest_png(), model="kidney-stones"), 404)
    assert _counts(service) == before


@pytest.mark.parametrize("data, filename, message", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20, "broken.png", "broken.png: corrupt or truncated image data"),
    (b"just some text, not an image\n", "notes.txt", "notes.txt: not a DICOM, NIfTI, PNG or JPEG file"),
    (b"", "empty.png", "empty.png: file is empty"),
])
def test_bad_files_are_422_naming_the_problem_and_write_nothing(service, pneumonia_model, data, filename, message):
    before = _counts(service)
    problem = _problem(_upload(service, data, filename=filename), 422)
    assert problem.startswith("file: ") and message in problem
    assert _counts(service) == before


@pytest.mark.parametrize("fields, expected", [
    ({"patient": "Patient/no-such-patient"}, "patient: Patient/no-such-patient is not in the store"),
    ({"patient": "Patient/../../x"}, "patient: 'Patient/../../x' is not a Patient reference"),
    ({"centre": "10,10,5"}, "centre: centre is only for 3D models"),
])
def test_bad_fields_are_422_and_write_nothing(service, pneumonia_model, fields, expected):
    before = _counts(service)
    assert expected in _problem(_upload(service, chest_png(), **fields), 422)
    assert _counts(service) == before


def test_missing_file_and_wrong_content_type(service, pneumonia_model):
    headers = service.headers("clinician", content_type=None)
    missing = service.client.post(PREDICT, data={"patient": service.sick_patient}, files={"other": ("x", b"1")}, headers=headers)
    assert "file: upload one image file" in _problem(missing, 422)
    as_json = service.client.post(PREDICT, json={"file": "x"}, headers=headers)
    assert "multipart/form-data" in _problem(as_json, 415)


@pytest.mark.parametrize("role", ["patient", "admin"])
def test_only_clinicians_and_services_may_predict(service, pneumonia_model, role):
    before = _counts(service)
    assert "may not do this" in _problem(_upload(service, chest_png(), role=role), 403)
    assert _counts(service) == before
    assert service.client.post(PREDICT, files={"file": ("a.png", chest_png())}).status_code == 401


def test_service_role_may_predict(service, pneumonia_model):
    assert _upload(service, chest_png(), role="service").status_code == 201


def test_too_large_is_413_declared_or_streamed(service, pneumonia_model):
    before = _counts(service)
    big = chest_png() + b"\0" * 2_100_000  # settings.max_body_bytes is 2 MB in the tests
    assert "exceeds the limit of 2000000 bytes" in _problem(_upload(service, big), 413)

    boundary = "medai-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()

    def chunks():  # no Content-Length: the limit must hold while the body streams in
        yield head
        for _ in range(40):
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**service.headers("clinician", content_type=None), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    streamed = service.client.post(PREDICT, content=chunks(), headers=headers)
    assert "exceeds the limit of 2000000 bytes" in _problem(streamed, 413)
    assert _counts(service) == before


def test_overlay_of_another_patient_is_forbidden_to_a_patient(service, pneumonia_model):
    body = _upload(service, chest_png(), patient=service.sick_patient).json()
    # the patient user is linked to the well patient
    assert _problem(service.client.get(body["overlay_url"], headers=service.headers("patient", None)), 403)
    assert _problem(service.client.get("/api/v1/imaging/reports/nope/overlay", headers=service.headers("clinician", None)), 404)


@pytest.mark.data
def test_a_real_pneumoniamnist_image_is_read(service, pneumonia_model, data_dir):
    from PIL import Image as PILImage

    from medai.datasets import medmnist

    case = medmnist.load("pneumoniamnist", data_dir)["val"][0]
    buffer = io.BytesIO()
    PILImage.fromarray(np.asarray(case.pixels, dtype=np.uint8)).save(buffer, format="PNG")
    response = _upload(service, buffer.getvalue(), filename="pneumoniamnist-val-0.png")
    assert response.status_code == 201, response.text
    assert response.json()["label"] in ("normal", "pneumonia")
