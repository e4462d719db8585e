"""Imaging reads as FHIR resources and CDS Hooks cards: valid R4 (R4B models), linked, interpreted against the threshold."""

from __future__ import annotations

import base64
import io
import uuid

import numpy as np
import pytest

from medai.core.fhir import validate_resource
from medai.imaging.cards import (DICOM_UID, HEATMAP_TEXT, MODEL_EXTENSION, imaging_card, imaging_prediction,
                                 imaging_resources, model_identity, report_overlay, stored_card, stored_read,
                                 transaction_bundle)
from medai.imaging.image import Image
from medai.imaging.predict import ImagingResult
from medai.imaging.tasks import TASKS
from medai.store.clinical import get_resource
from medai.store.ingest import ingest_bundle
from tests.conftest import make_bundle


def _png() -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.fromarray((np.arange(64 * 32).reshape(32, 64) % 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _result(task: str = "pneumonia-cxr", probabilities=(0.2, 0.8), threshold: float = 0.5) -> ImagingResult:
    spec = TASKS[task]
    positive = float(sum(probabilities[i] for i in spec.positive_classes))
    return ImagingResult(source="chest.png", task=spec, model_id=task, model_version="1.0.0", weights_sha256="ab" * 32,
                         probabilities=list(probabilities), positive_probability=positive, threshold=threshold,
                         input_sha256="cd" * 32, overlay_png=_png())


def _refs(items: list[dict]) -> list[str]:
    return [item["reference"] for item in items]


def test_resources_validate_and_link_to_the_study():
    result = _result()
    patient = str(uuid.uuid4())
    resources = imaging_resources(result, patient_id=patient)
    for resource in resources.all():
        assert validate_resource(resource) == resource["resourceType"]
    study, (finding,), report = resources.study, resources.observations, resources.report
    study_ref = f"ImagingStudy/{study['id']}"
    assert study["subject"] == {"reference": f"Patient/{patient}"}
    assert study["series"][0]["modality"]["code"] == "CR"  # the task's modality for a PNG
    assert study["identifier"][0]["system"] == DICOM_UID and study["identifier"][0]["value"].startswith("urn:oid:2.25.")
    assert _refs(finding["derivedFrom"]) == [study_ref]
    assert finding["code"]["coding"][0] == {"system": "http://loinc.org", "code": TASKS["pneumonia-cxr"].loinc}
    assert finding["valueQuantity"]["value"] == pytest.approx(0.8)
    assert finding["referenceRange"][0]["high"]["value"] == pytest.approx(0.5)
    assert "pneumonia-cxr 1.0.0" in finding["note"][0]["text"]
    assert _refs(report["imagingStudy"]) == [study_ref]
    assert _refs(report["result"]) == [f"Observation/{finding['id']}"]
    assert report["status"] == "preliminary" and finding["status"] == "preliminary"
    assert report_overlay(report) == result.overlay_png
    assert report["presentedForm"][0]["contentType"] == "image/png"
    assert model_identity(report) == {"id": "pneumonia-cxr", "version": "1.0.0", "weightsSha256": "ab" * 32,
                                      "inputSha256": "cd" * 32}
    assert "Pneumonia: 80% (positive; threshold 50%)" in report["conclusion"]


@pytest.mark.parametrize("probabilities, threshold, code", [((0.2, 0.8), 0.5, "POS"), ((0.7, 0.3), 0.5, "NEG"),
                                                             ((0.4, 0.6), 0.6, "POS"), ((0.45, 0.55), 0.6, "NEG")])
def test_interpretation_follows_the_threshold(probabilities, threshold, code):
    finding = imaging_resources(_result(probabilities=probabilities, threshold=threshold)).observations[0]
    assert finding["interpretation"][0]["coding"][0]["code"] == code


def test_dicom_uids_and_modality_are_kept_and_no_patient_is_allowed():
    image = Image(pixels=np.zeros((8, 8), np.float32), spacing=(1.0, 1.0), modality="DX",
                  metadata={"StudyInstanceUID": "1.2.3.4", "SeriesInstanceUID": "1.2.3.4.5", "SOPInstanceUID": "1.2.3.4.5.6",
                            "SOPClassUID": "1.2.840.10008.5.1.4.1.1.1.1", "BodyPartExamined": "CHEST"})
    resources = imaging_resources(_result(), image=image, status="final")
    study = resources.study
    for resource in resources.all():
        validate_resource(resource)
    assert study["identifier"] == [{"system": DICOM_UID, "value": "urn:oid:1.2.3.4"}]
    assert study["modality"][0]["code"] == "DX" and study["series"][0]["uid"] == "1.2.3.4.5"
    assert study["series"][0]["instance"][0]["uid"] == "1.2.3.4.5.6"
    assert study["series"][0]["bodySite"]["display"] == "CHEST"
    assert "reference" not in study["subject"]  # no patient: a display-only subject
    assert "subject" not in resources.report and resources.report["status"] == "final"


def test_a_named_study_is_linked_not_created():
    resources = imaging_resources(_result(), study_id="study-1")
    assert resources.study is None
    assert _refs(resources.report["imagingStudy"]) == ["ImagingStudy/study-1"]
    assert _refs(resources.observations[0]["derivedFrom"]) == ["ImagingStudy/study-1"]


def test_graded_tasks_add_the_grade_with_class_probabilities():
    probabilities = (0.1, 0.2, 0.5, 0.15, 0.05)
    resources = imaging_resources(_result("dr-grade", probabilities, threshold=0.4))
    finding, grade = resources.observations
    for resource in resources.all():
        validate_resource(resource)
    assert finding["valueQuantity"]["value"] == pytest.approx(0.7)  # grades 2-4 are referable
    assert grade["valueCodeableConcept"]["text"] == "moderate NPDR"
    assert [c["valueQuantity"]["value"] for c in grade["component"]] == pytest.approx(list(probabilities))
    assert _refs(resources.report["result"]) == [f"Observation/{finding['id']}", f"Observation/{grade['id']}"]
    read = stored_read(resources.report, resources.observations)
    assert read.label == "moderate NPDR" and read.probability == pytest.approx(0.7)


def test_bundle_stores_in_one_transaction_and_reads_back(engine):
    patient_bundle = make_bundle()
    patient = patient_bundle["entry"][0]["resource"]["id"]
    result = _result()
    resources = imaging_resources(result, patient_id=patient)
    bundle = transaction_bundle(resources.all())
    assert validate_resource(bundle) == "Bundle" and bundle["type"] == "transaction"
    assert [e["request"]["method"] for e in bundle["entry"]] == ["PUT"] * 3
    with engine.begin() as connection:
        ingest_bundle(connection, patient_bundle)
        written = ingest_bundle(connection, bundle).written
    assert written == [f"{r['resourceType']}/{r['id']}" for r in resources.all()]
    with engine.connect() as connection:
        report = get_resource(connection, "DiagnosticReport", resources.report["id"])
        observation = get_resource(connection, "Observation", resources.observations[0]["id"])
    read = stored_read(report, [observation])
    assert read.patient_id == patient and read.positive
    assert (read.finding, read.probability, read.threshold) == ("pneumonia", pytest.approx(0.8), pytest.approx(0.5))
    assert (read.model_id, read.model_version, read.has_overlay) == ("pneumonia-cxr", "1.0.0", True)


@pytest.mark.parametrize("probabilities, indicator, verdict", [((0.1, 0.9), "warning", "positive"),
                                                                ((0.9, 0.1), "info", "negative")])
def test_cds_card(probabilities, indicator, verdict):
    result = _result(probabilities=probabilities)
    card = imaging_card(result, "card-1", page_url="http://medai/ui/imaging/reports/r1",
                        model_card_url="http://medai/ui/models/pneumonia-cxr", limitations=["Trained on 28 px images."])
    assert card["indicator"] == indicator
    assert card["summary"] == f"Pneumonia: {probabilities[1]:.0%} ({verdict}; threshold 50%)"
    assert len(card["summary"]) <= 140
    assert card["source"] == {"label": "medai pneumonia-cxr 1.0.0", "url": "http://medai/ui/models/pneumonia-cxr"}
    assert HEATMAP_TEXT in card["detail"] and "Trained on 28 px images." in card["detail"]
    assert card["links"] == [{"label": "Open the image, heat map and finding in medai",
                              "url": "http://medai/ui/imaging/reports/r1", "type": "absolute"}]
    resources = imaging_resources(result)
    stored = stored_card(stored_read(resources.report, resources.observations))
    assert (stored["summary"], stored["indicator"], stored["source"]["label"]) == (card["summary"], indicator, card["source"]["label"])


def test_prediction_carries_model_explanation_and_input_hash():
    result = _result()
    prediction = imaging_prediction(result, patient_id="p1", overlay_ref="DiagnosticReport/r1", limitations=["small images"])
    assert prediction.model.model_dump() == {"model_id": "pneumonia-cxr", "model_version": "1.0.0", "weights_sha256": "ab" * 32}
    assert prediction.input_hash == "cd" * 32 and prediction.threshold == 0.5 and prediction.value == pytest.approx(0.8)
    assert prediction.explanation.method == "Grad-CAM" and "DiagnosticReport/r1" in prediction.explanation.summary
    assert prediction.explanation.caveats == [HEATMAP_TEXT, "small images"]
    assert MODEL_EXTENSION.startswith("urn:")
    assert base64.b64decode(imaging_resources(result).report["presentedForm"][0]["data"]).startswith(b"\x89PNG")


def test_percentages_never_look_equal_when_they_differ():
    card = imaging_card(_result(probabilities=(0.5004, 0.4996), threshold=0.5), "c")
    assert card["summary"] == "Pneumonia: 49.96% (negative; threshold 50.00%)" and card["indicator"] == "info"
    card = imaging_card(_result(probabilities=(0.5, 0.5), threshold=0.5), "c")
    assert card["summary"] == "Pneumonia: 50% (positive; threshold 50%)" and card["indicator"] == "warning"
