"""FHIR R4 resource JSON -> medai records (for the resource types medai models)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from medai.core import records as r
from medai.core.codes import LOINC
from medai.core.fhir.datatypes import first_code, parse_datetime, read_concept, reference_id
from medai.core.units import normalise
from medai.errors import InvalidInput, Problem


def _patient(res: dict) -> r.Patient:
    name = (res.get("name") or [{}])[0]
    address = (res.get("address") or [{}])[0]
    mrn = next((i.get("value") for i in res.get("identifier", []) if first_code(i.get("type")) == "MR"), None)
    if mrn is None:
        mrn = next((i.get("value") for i in res.get("identifier", []) if "mrn" in (i.get("system") or "")), None)
    deceased = res.get("deceasedDateTime") and parse_datetime(res["deceasedDateTime"]) or res.get("deceasedBoolean")
    return r.Patient(id=res["id"], patient_id=res["id"], mrn=mrn, family_name=name.get("family"),
                     given_names=name.get("given", []), gender=res.get("gender"), birth_date=res.get("birthDate"),
                     deceased=deceased, city=address.get("city"), state=address.get("state"))


def _encounter(res: dict) -> r.Encounter:
    period = res.get("period", {})
    location = next((loc.get("location", {}).get("display") for loc in res.get("location", [])), None)
    return r.Encounter(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"), status=res["status"],
                       class_code=(res.get("class") or {}).get("code"), type=[read_concept(t) for t in res.get("type", [])],
                       start=parse_datetime(period.get("start")), end=parse_datetime(period.get("end")), location=location,
                       reasons=[read_concept(c) for c in res.get("reasonCode", [])],
                       reason_references=[r["reference"] for r in res.get("reasonReference", []) if "reference" in r])


def _quantity(code: str | None, quantity: dict, location: str) -> tuple[float | None, str | None]:
    if "value" not in quantity:
        return None, quantity.get("code") or quantity.get("unit")
    unit = quantity.get("code") or quantity.get("unit")
    normalised = normalise(code or "", quantity["value"], unit, location)
    return normalised.value, normalised.unit


def _observation(res: dict) -> r.Observation:
    code = read_concept(res["code"])
    loinc = code.code_in(LOINC)
    value = unit = text = None
    if "valueQuantity" in res:
        value, unit = _quantity(loinc, res["valueQuantity"], "Observation.valueQuantity")
    elif "valueCodeableConcept" in res:
        text = read_concept(res["valueCodeableConcept"]).label
    elif "valueString" in res:
        text = res["valueString"]
    components = []
    for index, comp in enumerate(res.get("component", [])):
        comp_code = read_concept(comp["code"])
        comp_value, comp_unit = (None, None)
        if "valueQuantity" in comp:
            comp_value, comp_unit = _quantity(comp_code.code_in(LOINC), comp["valueQuantity"], f"Observation.component[{index}].valueQuantity")
        components.append(r.Component(code=comp_code, value=comp_value, unit=comp_unit))
    category = next((first_code(c) for c in res.get("category", [])), None)
    effective = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start") or res.get("issued")
    return r.Observation(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"),
                         encounter_id=reference_id(res.get("encounter"), "Encounter"), status=res["status"], category=category,
                         code=code, effective=parse_datetime(effective), value=value, unit=unit, value_text=text, components=components)


def _condition(res: dict) -> r.Condition:
    return r.Condition(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"),
                       encounter_id=reference_id(res.get("encounter"), "Encounter"), code=read_concept(res.get("code")) or r.Concept(),
                       clinical_status=first_code(res.get("clinicalStatus")), verification_status=first_code(res.get("verificationStatus")),
                       onset=parse_datetime(res.get("onsetDateTime")), abatement=parse_datetime(res.get("abatementDateTime")),
                       recorded=parse_datetime(res.get("recordedDate")))


def _medication_request(res: dict) -> r.MedicationRequest:
    dosage = (res.get("dosageInstruction") or [{}])[0]
    repeat = (dosage.get("timing") or {}).get("repeat", {})
    dose = next((d.get("doseQuantity") for d in dosage.get("doseAndRate", []) if d.get("doseQuantity")), {}) or {}
    medication = read_concept(res.get("medicationCodeableConcept"))
    if medication is None and res.get("medicationReference"):
        medication = r.Concept(text=res["medicationReference"].get("display") or res["medicationReference"].get("reference"))
    return r.MedicationRequest(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"),
                               encounter_id=reference_id(res.get("encounter"), "Encounter"), status=res["status"], intent=res["intent"],
                               medication=medication or r.Concept(), authored_on=parse_datetime(res.get("authoredOn")),
                               dosage_text=dosage.get("text"), dose_value=dose.get("value"), dose_unit=dose.get("unit") or dose.get("code"),
                               frequency=repeat.get("frequency"), period=repeat.get("period"), period_unit=repeat.get("periodUnit"),
                               as_needed=dosage.get("asNeededBoolean"))


def _allergy(res: dict) -> r.AllergyIntolerance:
    return r.AllergyIntolerance(id=res["id"], patient_id=reference_id(res.get("patient"), "Patient"),
                                code=read_concept(res.get("code")) or r.Concept(), clinical_status=first_code(res.get("clinicalStatus")),
                                criticality=res.get("criticality"), category=res.get("category", []),
                                recorded=parse_datetime(res.get("recordedDate")))


def _diagnostic_report(res: dict) -> r.DiagnosticReport:
    return r.DiagnosticReport(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"),
                              encounter_id=reference_id(res.get("encounter"), "Encounter"), status=res["status"],
                              code=read_concept(res["code"]), effective=parse_datetime(res.get("effectiveDateTime")),
                              issued=parse_datetime(res.get("issued")),
                              result_ids=[i for i in (reference_id(x, "Observation") for x in res.get("result", [])) if i],
                              conclusion=res.get("conclusion"))


def _imaging_study(res: dict) -> r.ImagingStudy:
    series = res.get("series", [])
    uid = next((i.get("value") for i in res.get("identifier", []) if i.get("system") == "urn:dicom:uid"), None)
    modalities = [m.get("code") for m in res.get("modality", [])] or [s["modality"].get("code") for s in series if s.get("modality")]
    return r.ImagingStudy(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"),
                          encounter_id=reference_id(res.get("encounter"), "Encounter"), status=res["status"], study_uid=uid,
                          started=parse_datetime(res.get("started")), modalities=sorted(set(filter(None, modalities))),
                          series=[r.ImagingSeries(uid=s["uid"], modality=s["modality"].get("code"),
                                                  body_site=(s.get("bodySite") or {}).get("display") or (s.get("bodySite") or {}).get("code"),
                                                  number_of_instances=s.get("numberOfInstances")) for s in series],
                          number_of_series=res.get("numberOfSeries"), number_of_instances=res.get("numberOfInstances"),
                          description=res.get("description"))


def _document_text(attachment: dict) -> str | None:
    if "data" not in attachment:
        return None
    try:
        return base64.b64decode(attachment["data"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput(Problem("DocumentReference.content.attachment.data", "attachment data is not base64-encoded UTF-8 text", "value")) from None


def _document_reference(res: dict) -> r.DocumentReference:
    attachment = ((res.get("content") or [{}])[0]).get("attachment", {})
    context = res.get("context", {})
    encounter = next((reference_id(e, "Encounter") for e in context.get("encounter", [])), None)
    return r.DocumentReference(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"), encounter_id=encounter,
                               status=res["status"], type=read_concept(res.get("type")), date=parse_datetime(res.get("date")),
                               content_type=attachment.get("contentType"), text=_document_text(attachment),
                               title=attachment.get("title") or res.get("description"))


def _appointment(res: dict) -> r.Appointment:
    actors = [p.get("actor", {}) for p in res.get("participant", [])]
    return r.Appointment(id=res["id"], patient_id=next((i for i in (reference_id(a, "Patient") for a in actors) if i), None),
                         status=res["status"], service_type=read_concept((res.get("serviceType") or [None])[0]),
                         description=res.get("description"), start=parse_datetime(res.get("start")), end=parse_datetime(res.get("end")),
                         practitioner_ids=[i for i in (reference_id(a, "Practitioner") for a in actors) if i])


def _risk_assessment(res: dict) -> r.RiskAssessment:
    predictions = [r.RiskPrediction(outcome=read_concept(p.get("outcome")) or r.Concept(), probability=p.get("probabilityDecimal"),
                                    qualitative_risk=first_code(p.get("qualitativeRisk")), rationale=p.get("rationale"))
                   for p in res.get("prediction", [])]
    return r.RiskAssessment(id=res["id"], patient_id=reference_id(res.get("subject"), "Patient"), status=res["status"],
                            method=read_concept(res.get("method")), code=read_concept(res.get("code")),
                            occurrence=parse_datetime(res.get("occurrenceDateTime")),
                            basis_ids=[b["reference"] for b in res.get("basis", []) if "reference" in b], predictions=predictions,
                            note="\n".join(n.get("text", "") for n in res.get("note", [])) or None)


_READERS: dict[str, Callable[[dict], r.Record]] = {
    "Patient": _patient, "Encounter": _encounter, "Observation": _observation, "Condition": _condition,
    "MedicationRequest": _medication_request, "AllergyIntolerance": _allergy, "DiagnosticReport": _diagnostic_report,
    "ImagingStudy": _imaging_study, "DocumentReference": _document_reference, "Appointment": _appointment,
    "RiskAssessment": _risk_assessment,
}


def record_from_fhir(resource: dict) -> r.Record | None:
    """The medai record for a (validated) FHIR resource, or None for types medai does not model.

    Raises ``InvalidInput`` for clinically impossible content (unit that does not
    convert, impossible value, undecodable note).
    """
    reader = _READERS.get(resource.get("resourceType", ""))
    if reader is None:
        return None
    try:
        return reader(resource)
    except InvalidInput:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as error:  # shapes the schema lets through but medai cannot read
        where = f"{resource.get('resourceType')}/{resource.get('id')}"
        raise InvalidInput(Problem(where, f"cannot be read ({type(error).__name__}: {str(error)[:200]})", "structure")) from None
