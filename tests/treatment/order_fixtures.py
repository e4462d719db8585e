"""Hand-made FHIR R4 resources for order-review tests: patients, labs, genotypes, draft orders, administrations."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def patient(pid: str | None = None, gender: str = "female", birth: str = "1945-06-01", race: str | None = "2106-3",
            family: str = "Renal", given: str = "Rita") -> dict:
    """A Patient (US Core race extension when ``race`` is an OMB code)."""
    resource = {"resourceType": "Patient", "id": pid or str(uuid.uuid4()), "gender": gender, "birthDate": birth,
                "name": [{"family": family, "given": [given]}],
                "identifier": [{"system": "urn:test:mrn", "value": f"MRN-{family.upper()}"}]}
    if race:
        resource["extension"] = [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                                  "extension": [{"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": race}}]}]
    return resource


def observation(pid: str, code: str, value: float, unit: str, hours_ago: float = 2, display: str = "lab") -> dict:
    """A numeric laboratory or vital-sign Observation ``hours_ago`` hours before now."""
    return {"resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "effectiveDateTime": (NOW - timedelta(hours=hours_ago)).isoformat(),
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}


def creatinine(pid: str, mg_dl: float, days_ago: float = 1) -> dict:
    return observation(pid, "2160-0", mg_dl, "mg/dL", days_ago * 24, "Creatinine")


def weight(pid: str, kg: float) -> dict:
    return observation(pid, "29463-7", kg, "kg", 30, "Body weight")


def height(pid: str, cm: float) -> dict:
    return observation(pid, "8302-2", cm, "cm", 30, "Body height")


def genotype(pid: str, gene: str, hgnc: str, text: str) -> dict:
    """A Genomics Reporting IG genotype Observation (LOINC 84413-4, gene studied 48018-6)."""
    return {"resourceType": "Observation", "id": str(uuid.uuid4()), "status": "final", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": LOINC, "code": "84413-4", "display": "Genotype display name"}]},
            "effectiveDateTime": "2020-01-01", "valueCodeableConcept": {"text": text},
            "component": [{"code": {"coding": [{"system": LOINC, "code": "48018-6", "display": "Gene studied [ID]"}]},
                           "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId", "code": hgnc, "display": gene}]}}]}


def order(pid: str, text: str, dose: float | None, unit: str = "mg", period: float = 12, status: str = "draft",
          oid: str | None = None, route: str | None = None) -> dict:
    """A MedicationRequest (a draft order by default) for ``dose`` ``unit`` every ``period`` hours."""
    dosage: dict = {"timing": {"repeat": {"frequency": 1, "period": period, "periodUnit": "h"}}}
    if dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}]
    if route:
        dosage["route"] = {"text": route}
    return {"resourceType": "MedicationRequest", "id": oid or str(uuid.uuid4()), "status": status, "intent": "order",
            "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": {"text": text}, "dosageInstruction": [dosage]}


def administration(pid: str, hours_ago: float, mg: float, hours: float = 1.0, drug: str = "vancomycin 1 g IV") -> dict:
    """A completed MedicationAdministration (an infusion of ``hours`` hours)."""
    start = NOW - timedelta(hours=hours_ago)
    return {"resourceType": "MedicationAdministration", "id": str(uuid.uuid4()), "status": "completed",
            "medicationCodeableConcept": {"text": drug}, "subject": {"reference": f"Patient/{pid}"},
            "effectivePeriod": {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()},
            "dosage": {"dose": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}}


def searchset(resources: list[dict]) -> dict:
    """A searchset Bundle, as an EHR sends prefetch results."""
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def transaction(resources: list[dict]) -> dict:
    """A transaction Bundle that stores ``resources`` (POST each)."""
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
                      for r in resources]}


def renal_patient(pid: str | None = None, creatinine_mg_dl: float | None = 2.5) -> list[dict]:
    """An 80-year-old woman, 55 kg, 160 cm (creatinine 2.5: eGFR ~19, CrCl ~15), on lisinopril."""
    person = patient(pid)
    pid = person["id"]
    found = [person, weight(pid, 55), height(pid, 160),
             order(pid, "lisinopril 10 MG Oral Tablet", 10, period=24, status="active")]
    if creatinine_mg_dl is not None:
        found.append(creatinine(pid, creatinine_mg_dl))
    return found
