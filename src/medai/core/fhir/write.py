"""medai records -> FHIR R4 resource JSON."""

from __future__ import annotations

import base64
from collections.abc import Callable

from medai.core import records as r
from medai.core.catalog import lookup
from medai.core.codes import OBSERVATION_CATEGORY, UCUM
from medai.core.fhir.datatypes import (format_date, format_datetime, make_reference, prune, status_concept,
                                       write_concept)

_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_MRN_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


def _quantity(value: float | None, unit: str | None) -> dict | None:
    if value is None:
        return None
    return {"value": value, "unit": unit, "system": UCUM if unit else None, "code": unit}


def _patient(rec: r.Patient) -> dict:
    deceased = {"deceasedBoolean": rec.deceased} if isinstance(rec.deceased, bool) else {"deceasedDateTime": format_datetime(rec.deceased)}
    return {"name": [{"family": rec.family_name, "given": rec.given_names}], "gender": rec.gender,
            "birthDate": format_date(rec.birth_date), "address": [{"city": rec.city, "state": rec.state}],
            "identifier": [{"type": _MRN_TYPE, "value": rec.mrn}] if rec.mrn else [], **deceased}


def _encounter(rec: r.Encounter) -> dict:
    return {"status": rec.status, "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": rec.class_code},
            "type": [write_concept(t) for t in rec.type], "subject": make_reference("Patient", rec.patient_id),
            "period": {"start": format_datetime(rec.start), "end": format_datetime(rec.end)},
            "location": [{"location": {"display": rec.location}}] if rec.location else [],
            "reasonCode": [write_concept(c) for c in rec.reasons],
            "reasonReference": [{"reference": r} for r in rec.reason_references]}


def _observation(rec: r.Observation) -> dict:
    value: dict = {}
    if rec.value is not None:
        value = {"valueQuantity": _quantity(rec.value, rec.unit)}
    elif rec.value_text is not None:
        value = {"valueString": rec.value_text}
    category = rec.category or (lookup(rec.loinc or "") and ("vital-signs" if lookup(rec.loinc).kind == "vital" else "laboratory"))
    return {"status": rec.status, "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}] if category else [],
            "code": write_concept(rec.code), "subject": make_reference("Patient", rec.patient_id),
            "encounter": make_reference("Encounter", rec.encounter_id), "effectiveDateTime": format_datetime(rec.effective),
            "component": [{"code": write_concept(c.code), "valueQuantity": _quantity(c.value, c.unit)} for c in rec.components], **value}


def _condition(rec: r.Condition) -> dict:
    return {"clinicalStatus": status_concept(_CLINICAL, rec.clinical_status),
            "verificationStatus": status_concept(_VERIFICATION, rec.verification_status), "code": write_concept(rec.code),
            "subject": make_reference("Patient", rec.patient_id), "encounter": make_reference("Encounter", rec.encounter_id),
            "onsetDateTime": format_datetime(rec.onset), "abatementDateTime": format_datetime(rec.abatement),
            "recordedDate": format_datetime(rec.recorded)}


def _medication_request(rec: r.MedicationRequest) -> dict:
    dosage = {"text": rec.dosage_text, "asNeededBoolean": rec.as_needed,
              "timing": {"repeat": {"frequency": rec.frequency, "period": rec.period, "periodUnit": rec.period_unit}},
              "doseAndRate": [{"doseQuantity": {"value": rec.dose_value, "unit": rec.dose_unit}}] if rec.dose_value is not None else []}
    return {"status": rec.status, "intent": rec.intent, "medicationCodeableConcept": write_concept(rec.medication),
            "subject": make_reference("Patient", rec.patient_id), "encounter": make_reference("Encounter", rec.encounter_id),
            "authoredOn": format_datetime(rec.authored_on), "dosageInstruction": [dosage]}


def _allergy(rec: r.AllergyIntolerance) -> dict:
    return {"clinicalStatus": status_concept(_ALLERGY_CLINICAL, rec.clinical_status), "criticality": rec.criticality,
            "category": rec.category, "code": write_concept(rec.code), "patient": make_reference("Patient", rec.patient_id),
            "recordedDate": format_datetime(rec.recorded)}


def _diagnostic_report(rec: r.DiagnosticReport) -> dict:
    return {"status": rec.status, "code": write_concept(rec.code), "subject": make_reference("Patient", rec.patient_id),
            "encounter": make_reference("Encounter", rec.encounter_id), "effectiveDateTime": format_datetime(rec.effective),
            "issued": format_datetime(rec.issued), "result": [make_reference("Observation", i) for i in rec.result_ids],
            "conclusion": rec.conclusion}


def _imaging_study(rec: r.ImagingStudy) -> dict:
    return {"status": rec.status, "identifier": [{"system": "urn:dicom:uid", "value": rec.study_uid}] if rec.study_uid else [],
            "subject": make_reference("Patient", rec.patient_id), "encounter": make_reference("Encounter", rec.encounter_id),
            "started": format_datetime(rec.started),
            "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": m} for m in rec.modalities],
            "series": [{"uid": s.uid, "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": s.modality},
                        "bodySite": {"display": s.body_site} if s.body_site else None, "numberOfInstances": s.number_of_instances}
                       for s in rec.series],
            "numberOfSeries": rec.number_of_series, "numberOfInstances": rec.number_of_instances, "description": rec.description}


def _document_reference(rec: r.DocumentReference) -> dict:
    data = base64.b64encode(rec.text.encode("utf-8")).decode("ascii") if rec.text is not None else None
    return {"status": rec.status, "type": write_concept(rec.type), "subject": make_reference("Patient", rec.patient_id),
            "date": format_datetime(rec.date), "context": {"encounter": [make_reference("Encounter", rec.encounter_id)]},
            "content": [{"attachment": {"contentType": rec.content_type, "data": data, "title": rec.title}}]}


def _appointment(rec: r.Appointment) -> dict:
    participants = [{"actor": make_reference("Patient", rec.patient_id), "status": "accepted"}] if rec.patient_id else []
    participants += [{"actor": make_reference("Practitioner", p), "status": "accepted"} for p in rec.practitioner_ids]
    return {"status": rec.status, "serviceType": [write_concept(rec.service_type)] if rec.service_type else [],
            "description": rec.description, "start": format_datetime(rec.start), "end": format_datetime(rec.end),
            "participant": participants}


def _risk_assessment(rec: r.RiskAssessment) -> dict:
    return {"status": rec.status, "method": write_concept(rec.method), "code": write_concept(rec.code),
            "subject": make_reference("Patient", rec.patient_id), "occurrenceDateTime": format_datetime(rec.occurrence),
            "basis": [{"reference": b} for b in rec.basis_ids],
            "prediction": [{"outcome": write_concept(p.outcome), "probabilityDecimal": p.probability,
                            "qualitativeRisk": {"text": p.qualitative_risk} if p.qualitative_risk else None,
                            "rationale": p.rationale} for p in rec.predictions],
            "note": [{"text": rec.note}] if rec.note else []}


_WRITERS: dict[str, Callable] = {
    "Patient": _patient, "Encounter": _encounter, "Observation": _observation, "Condition": _condition,
    "MedicationRequest": _medication_request, "AllergyIntolerance": _allergy, "DiagnosticReport": _diagnostic_report,
    "ImagingStudy": _imaging_study, "DocumentReference": _document_reference, "Appointment": _appointment,
    "RiskAssessment": _risk_assessment,
}


def record_to_fhir(record: r.Record) -> dict:
    """The FHIR R4 JSON resource for a medai record (empty elements omitted)."""
    body = _WRITERS[record.resource_type](record)
    return prune({"resourceType": record.resource_type, "id": record.id, **body})
