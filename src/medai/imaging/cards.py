"""Imaging findings into the clinical workflow: FHIR R4 resources, a transaction Bundle, a CDS Hooks
card and the :class:`~medai.core.prediction.Prediction` that the store audits.

One read of one image becomes an ``ImagingStudy`` (unless the caller names a stored one), an
``Observation`` per finding (the positive-finding probability; for graded tasks also the most
probable grade) derived from the study, and a ``DiagnosticReport`` that links both, concludes in
words and carries the Grad-CAM overlay as its ``presentedForm`` and the model's identity as an
extension. Resources reference each other as ``Type/id``, so they can be stored one by one or as
the Bundle from :func:`transaction_bundle`.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from medai.core.codes import LOINC
from medai.core.prediction import ModelIdentity, Prediction
from medai.explain.types import Explanation
from medai.imaging.image import Image
from medai.imaging.predict import ImagingResult

MODEL_EXTENSION = "urn:medai:fhir:extension:model"
DICOM_UID = "urn:dicom:uid"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
REPORT_CATEGORY = "http://terminology.hl7.org/CodeSystem/v2-0074"
HEATMAP_TEXT = ("The heat map (Grad-CAM) colours the regions of the model's input that most raised the score of the "
                "predicted class: red most, blue least. It shows where the model looked, not where disease is; "
                "a warm region is not a localisation or a diagnosis.")


@dataclass
class ImagingResources:
    """The FHIR resources of one imaging read; ``study`` is None when the caller named a stored study."""

    study: dict | None
    observations: list[dict]
    report: dict

    def all(self) -> list[dict]:
        """Every new resource, the study first (the order they reference each other in)."""
        return ([self.study] if self.study else []) + self.observations + [self.report]


def _now(when: datetime | None) -> str:
    return (when or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


def _new_uid() -> str:
    """A DICOM UID from a random UUID (the 2.25 arc of ISO/IEC 9834-8)."""
    return f"2.25.{uuid.uuid4().int}"


def _percent(value: float, decimals: int = 0) -> str:
    return f"{value:.{decimals}%}" if value >= 0.01 else f"{value:.{decimals + 1}%}"


def percent_pair(probability: float, threshold: float) -> tuple[str, str]:
    """Probability and threshold as percentages, with a decimal more when whole percents would look equal."""
    for decimals in (0, 1, 2):
        shown = _percent(probability, decimals), _percent(threshold, decimals)
        if shown[0] != shown[1] or probability == threshold:
            return shown
    return shown


def _subject(patient_id: str | None) -> dict:
    return {"reference": f"Patient/{patient_id}"} if patient_id else {"display": "no patient linked (anonymous upload)"}


def _model_line(result: ImagingResult) -> str:
    return (f"medai model {result.model_id} {result.model_version} (weights sha256 {result.weights_sha256[:12]}...; "
            f"input sha256 {result.input_sha256[:12]}...)")


def finding_sentence(result: ImagingResult) -> str:
    """The finding in one line: probability, threshold and whether it counts as positive."""
    return _sentence(result.task.finding, result.positive_probability, result.threshold)


def _sentence(finding: str, probability: float, threshold: float) -> str:
    shown, limit = percent_pair(probability, threshold)
    verdict = "positive" if probability >= threshold else "negative"
    return f"{finding[:1].upper()}{finding[1:]}: {shown} ({verdict}; threshold {limit})"


def imaging_study(result: ImagingResult, image: Image | None = None, patient_id: str | None = None) -> dict:
    """An ``ImagingStudy`` for the read image: DICOM UIDs and modality from ``image`` when it has them."""
    meta = image.metadata if image is not None else {}
    modality = image.modality if image is not None and image.modality not in ("", "OT") else result.task.modality
    study_uid, series_uid = meta.get("StudyInstanceUID") or _new_uid(), meta.get("SeriesInstanceUID") or _new_uid()
    series = {"uid": str(series_uid), "modality": {"system": DCM, "code": modality}, "numberOfInstances": 1,
              "bodySite": {"display": meta.get("BodyPartExamined") or result.task.body_site}}
    if meta.get("SOPInstanceUID") and meta.get("SOPClassUID"):
        series["instance"] = [{"uid": str(meta["SOPInstanceUID"]), "sopClass": {"system": DICOM_UID, "code": f"urn:oid:{meta['SOPClassUID']}"}}]
    return {"resourceType": "ImagingStudy", "id": str(uuid.uuid4()), "status": "available",
            "identifier": [{"system": DICOM_UID, "value": f"urn:oid:{study_uid}"}],
            "subject": _subject(patient_id),
            "modality": [{"system": DCM, "code": modality}], "numberOfSeries": 1, "numberOfInstances": 1,
            "description": str(meta.get("StudyDescription") or f"{result.task.body_site} image read by {result.model_id}"),
            "series": [series]}


def _observation(result: ImagingResult, code: dict, study_ref: str, patient_id: str | None, status: str,
                 when: str) -> dict:
    resource = {"resourceType": "Observation", "id": str(uuid.uuid4()), "status": status,
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "imaging", "display": "Imaging"}]}],
                "code": code, "effectiveDateTime": when, "issued": when,
                "method": {"text": f"medai {result.model_id} {result.model_version}: deep-learning image classifier, "
                                   "Grad-CAM explanation"},
                "derivedFrom": [{"reference": study_ref}], "note": [{"text": f"Made by {_model_line(result)}."}]}
    if patient_id:
        resource["subject"] = _subject(patient_id)
    return resource


def finding_observations(result: ImagingResult, study_ref: str, patient_id: str | None = None,
                         status: str = "preliminary", when: datetime | None = None) -> list[dict]:
    """The finding's probability (interpreted against the threshold), plus the most probable grade for graded tasks."""
    time, task = _now(when), result.task
    code = {"coding": [{"system": LOINC, "code": task.loinc}], "text": f"AI probability of {task.finding}"}
    finding = _observation(result, code, study_ref, patient_id, status, time)
    positive = ("POS", "Positive") if result.positive else ("NEG", "Negative")
    finding.update(
        valueQuantity={"value": round(result.positive_probability, 4), "unit": "probability", "system": UCUM, "code": "1"},
        interpretation=[{"coding": [{"system": INTERPRETATION, "code": positive[0], "display": positive[1]}]}],
        referenceRange=[{"high": {"value": round(result.threshold, 4), "unit": "probability", "system": UCUM, "code": "1"},
                         "text": f"operating threshold: positive at {_percent(result.threshold)} or above"}])
    out = [finding]
    if not task.binary:
        grade = _observation(result, {"coding": [{"system": LOINC, "code": task.loinc}], "text": task.title},
                             study_ref, patient_id, status, time)
        grade["valueCodeableConcept"] = {"text": result.label}
        grade["component"] = [{"code": {"text": f"probability of {name}"},
                               "valueQuantity": {"value": round(p, 4), "unit": "probability", "system": UCUM, "code": "1"}}
                              for name, p in zip(task.classes, result.probabilities)]
        out.append(grade)
    return out


def model_extension(result: ImagingResult) -> dict:
    """The extension naming the model, its weights and the input it read."""
    return {"url": MODEL_EXTENSION, "extension": [
        {"url": "id", "valueString": result.model_id}, {"url": "version", "valueString": result.model_version},
        {"url": "weightsSha256", "valueString": result.weights_sha256},
        {"url": "inputSha256", "valueString": result.input_sha256}]}


def diagnostic_report(result: ImagingResult, study_ref: str, observations: Sequence[dict], patient_id: str | None = None,
                      status: str = "preliminary", when: datetime | None = None) -> dict:
    """A ``DiagnosticReport`` linking the study and the findings, with the overlay PNG and the model's identity."""
    time, task = _now(when), result.task
    conclusion = (f"AI read ({status}): {finding_sentence(result)}. Most probable class: {result.label}. "
                  f"{_model_line(result)}. Decision support only: to be reviewed by a clinician.")
    report = {"resourceType": "DiagnosticReport", "id": str(uuid.uuid4()), "status": status,
              "extension": [model_extension(result)],
              "category": [{"coding": [{"system": REPORT_CATEGORY, "code": "RAD", "display": "Radiology"}],
                            "text": "Imaging"}],
              "code": {"coding": [{"system": LOINC, "code": task.loinc}], "text": task.title},
              "effectiveDateTime": time, "issued": time, "imagingStudy": [{"reference": study_ref}],
              "result": [{"reference": f"Observation/{o['id']}"} for o in observations], "conclusion": conclusion}
    if patient_id:
        report["subject"] = _subject(patient_id)
    if result.overlay_png:
        report["presentedForm"] = [{"contentType": "image/png", "data": base64.b64encode(result.overlay_png).decode(),
                                    "title": "Model input (left) and Grad-CAM heat map (right)", "creation": time}]
    return report


def imaging_resources(result: ImagingResult, image: Image | None = None, patient_id: str | None = None,
                      study_id: str | None = None, status: str = "preliminary",
                      when: datetime | None = None) -> ImagingResources:
    """All resources of one read: a new ``ImagingStudy`` unless ``study_id`` names a stored one."""
    study = None if study_id else imaging_study(result, image, patient_id)
    study_ref = f"ImagingStudy/{study_id or study['id']}"
    observations = finding_observations(result, study_ref, patient_id, status, when)
    return ImagingResources(study, observations, diagnostic_report(result, study_ref, observations, patient_id, status, when))


def transaction_bundle(resources: Sequence[dict]) -> dict:
    """A FHIR transaction Bundle that PUTs each resource at its id."""
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
                       "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]}


def report_overlay(report: dict) -> bytes | None:
    """The overlay PNG stored in a report's ``presentedForm``, if any."""
    form = next((f for f in report.get("presentedForm", []) if f.get("contentType") == "image/png" and f.get("data")), None)
    return base64.b64decode(form["data"]) if form else None


def explanation(result: ImagingResult, overlay_ref: str | None = None, limitations: Sequence[str] = ()) -> Explanation:
    """The Grad-CAM explanation of a read; ``overlay_ref`` says where its heat map is stored."""
    where = f" The overlay is stored at {overlay_ref}." if overlay_ref else ""
    return Explanation(method="Grad-CAM", summary=f"Heat map over the image for the predicted class {result.label!r}.{where}",
                       caveats=[HEATMAP_TEXT, *limitations])


def imaging_prediction(result: ImagingResult, patient_id: str | None = None, overlay_ref: str | None = None,
                       limitations: Sequence[str] = (), prediction_id: str | None = None) -> Prediction:
    """The :class:`Prediction` of a read, for the prediction store and the audit log."""
    identity = ModelIdentity(model_id=result.model_id, model_version=result.model_version,
                             weights_sha256=result.weights_sha256)
    extra = {"id": prediction_id} if prediction_id else {}
    return Prediction(patient_id=patient_id, model=identity, value=result.positive_probability,
                      label=finding_sentence(result)[:128], probability=result.positive_probability,
                      threshold=result.threshold, explanation=explanation(result, overlay_ref, limitations),
                      input_hash=result.input_sha256, **extra)


def finding_card(*, card_id: str, finding: str, probability: float, threshold: float, model_id: str,
                 model_version: str, page_url: str | None = None, model_card_url: str | None = None,
                 limitations: Sequence[str] = (), label: str | None = None) -> dict:
    """A CDS Hooks card for one imaging finding: ``warning`` when positive, ``info`` otherwise."""
    positive = probability >= threshold
    summary = _sentence(finding, probability, threshold)
    limits = "\n".join(f"- {item}" for item in limitations) or "- see the model card"
    detail = (f"**AI finding:** {summary}" + (f"; most probable class *{label}*" if label else "") + ".\n\n"
              f"**The heat map:** {HEATMAP_TEXT}\n\n**Limits of the model:**\n{limits}\n\n"
              f"Model {model_id} {model_version}. Decision support only: review the image yourself.")
    card = {"uuid": card_id, "summary": summary[:140], "detail": detail, "indicator": "warning" if positive else "info",
            "source": {"label": f"medai {model_id} {model_version}"}, "links": [], "suggestions": []}
    if model_card_url:
        card["source"]["url"] = model_card_url
    if page_url:
        card["links"].append({"label": "Open the image, heat map and finding in medai", "url": page_url, "type": "absolute"})
    return card


def imaging_card(result: ImagingResult, card_id: str, page_url: str | None = None, model_card_url: str | None = None,
                 limitations: Sequence[str] = ()) -> dict:
    """The CDS Hooks card of a fresh read."""
    return finding_card(card_id=card_id, finding=result.task.finding, probability=result.positive_probability,
                        threshold=result.threshold, model_id=result.model_id, model_version=result.model_version,
                        page_url=page_url, model_card_url=model_card_url, limitations=limitations, label=result.label)


@dataclass
class StoredRead:
    """What a stored ``DiagnosticReport`` (made by :func:`imaging_resources`) says, for cards and pages."""

    report_id: str
    patient_id: str | None
    status: str
    issued: str | None
    title: str
    finding: str
    probability: float
    threshold: float
    label: str | None
    model_id: str
    model_version: str
    weights_sha256: str
    has_overlay: bool

    @property
    def positive(self) -> bool:
        """True when the probability reaches the threshold."""
        return self.probability >= self.threshold

    @property
    def shown(self) -> tuple[str, str]:
        """Probability and threshold as percentages that never look equal when they differ."""
        return percent_pair(self.probability, self.threshold)


def _reference_id(reference: dict | None, resource_type: str) -> str | None:
    ref = (reference or {}).get("reference", "")
    return ref.removeprefix(f"{resource_type}/") if ref.startswith(f"{resource_type}/") else None


def model_identity(report: dict) -> dict[str, str] | None:
    """The model extension of a report as ``{"id", "version", "weightsSha256", "inputSha256"}``; None if absent."""
    ext = next((e for e in report.get("extension", []) if e.get("url") == MODEL_EXTENSION), None)
    return {e["url"]: e.get("valueString", "") for e in ext.get("extension", [])} if ext else None


def stored_read(report: dict, observations: Sequence[dict]) -> StoredRead | None:
    """The read behind a medai imaging report and its result Observations; None for other reports."""
    model = model_identity(report)
    finding = next((o for o in observations if "valueQuantity" in o and o.get("referenceRange")), None)
    if model is None or finding is None:
        return None
    grade = next((o for o in observations if "valueCodeableConcept" in o), None)
    conclusion = report.get("conclusion", "")
    label = (grade or {}).get("valueCodeableConcept", {}).get("text")
    if label is None and "Most probable class: " in conclusion:
        label = conclusion.split("Most probable class: ", 1)[1].split(". ", 1)[0]
    return StoredRead(report_id=report["id"], patient_id=_reference_id(report.get("subject"), "Patient"),
                      status=report["status"], issued=report.get("issued"), title=report["code"].get("text", ""),
                      finding=finding["code"].get("text", "").removeprefix("AI probability of "),
                      probability=float(finding["valueQuantity"]["value"]),
                      threshold=float(finding["referenceRange"][0]["high"]["value"]), label=label,
                      model_id=model.get("id", ""), model_version=model.get("version", ""),
                      weights_sha256=model.get("weightsSha256", ""), has_overlay=report_overlay(report) is not None)


def stored_card(read: StoredRead, page_url: str | None = None, model_card_url: str | None = None,
                limitations: Sequence[str] = ()) -> dict:
    """The CDS Hooks card of a stored read (same form as :func:`imaging_card`)."""
    return finding_card(card_id=read.report_id, finding=read.finding, probability=read.probability,
                        threshold=read.threshold, model_id=read.model_id, model_version=read.model_version,
                        page_url=page_url, model_card_url=model_card_url, limitations=limitations, label=read.label)
