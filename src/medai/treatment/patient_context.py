"""What the treatment engines need to know about one patient, extracted from FHIR R4.

A ``PatientContext`` is built from a patient's FHIR resources (a Bundle, a list of resources,
or the store) through ``medai.core``'s readers, so units are normalised the same way as
everywhere else. It holds demographics (age, sex, US Core race, pregnancy), conditions,
the latest value of each measure (HbA1c, eGFR, BMI, blood pressure as the mean of the latest
readings, ...), active medications with their recognised ingredients, and the phenotypes
defined in ``assets/knowledge/treatment/patient_phenotypes.yaml`` with the evidence for each.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from pydantic import BaseModel, Field

from medai.core import records as r
from medai.core.codes import LOINC
from medai.core.fhir import record_from_fhir, validate_resource
from medai.core.fhir.datatypes import parse_datetime, read_concept, reference_id
from medai.errors import InvalidInput, Problem
from medai.treatment.interactions import MedicationItem, identify_medication
from medai.treatment.regimens.phenotypes import evaluate_phenotypes, phenotype_definitions

US_CORE_RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
BLACK_OMB_CODE = "2054-5"
PREGNANCY_STATUS_LOINC = "82810-3"
BP_READINGS = 3
_READ_TYPES = ("Patient", "Condition", "Observation", "MedicationRequest", "MedicationStatement")


class Measurement(BaseModel):
    """The value of a measure used for a decision, with where it came from."""

    name: str
    label: str
    value: float
    unit: str | None = None
    effective: datetime | None = None
    source: str | None = Field(default=None, description="'Observation/id' it was read from, when one.")
    note: str | None = Field(default=None, description="How it was derived, e.g. 'mean of 3 readings'.")

    def describe(self) -> str:
        """e.g. 'eGFR 25 mL/min/1.73m2 (2024-05-01)'."""
        when = f" ({self.effective.date().isoformat()})" if self.effective else ""
        note = f"; {self.note}" if self.note else ""
        return f"{self.label} {self.value:g} {self.unit or ''}".rstrip() + when + note


class ConditionFact(BaseModel):
    """A recorded condition, reduced to what phenotype matching needs."""

    label: str
    codings: list[r.Coding] = Field(default_factory=list)
    active: bool
    onset: datetime | None = None
    source: str | None = None


class PatientContext(BaseModel):
    """Everything the regimen and interaction engines read about one patient."""

    patient_id: str | None = None
    as_of: datetime
    deceased: bool = False
    age: float | None = None
    sex: str | None = None
    race: list[str] = Field(default_factory=list)
    black: bool = False
    pregnancy_status: bool | None = Field(default=None, description="From a pregnancy-status Observation or the caller.")
    conditions: list[ConditionFact] = Field(default_factory=list)
    measurements: dict[str, Measurement] = Field(default_factory=dict)
    medications: list[MedicationItem] = Field(default_factory=list)
    phenotypes: dict[str, list[str]] = Field(default_factory=dict, description="Phenotype id -> evidence lines.")

    def has(self, phenotype: str) -> bool:
        """Whether the patient has the phenotype."""
        return phenotype in self.phenotypes

    def value(self, measure: str) -> float | None:
        """The value of a measure, if known."""
        found = self.measurements.get(measure)
        return found.value if found else None

    def taking(self, drug_class: str) -> list[MedicationItem]:
        """Active medications in a class."""
        return [m for m in self.medications if drug_class in m.classes]

    @property
    def pregnant(self) -> bool:
        """Pregnant by explicit status or by an active pregnancy condition."""
        return bool(self.pregnancy_status) or (self.pregnancy_status is None and self.has("pregnancy"))


# ---------------------------------------------------------------- measurements

def _derived_egfr(creatinine: float, age: float | None, sex: str | None) -> float | None:
    """eGFR by CKD-EPI 2021 (the renal module's equation), or None when it does not apply (child, implausible value)."""
    from medai.treatment.renal.kidney import ckd_epi_2021

    try:
        return ckd_epi_2021(creatinine, age, sex) if age is not None and sex else None
    except InvalidInput:
        return None


def _hba1c_percent(value: float, unit: str | None) -> float:
    """HbA1c in NGSP % (IFCC mmol/mol converted by the NGSP/IFCC master equation)."""
    return value / 10.929 + 2.15 if unit and "mol" in unit else value


def _latest(observations: list[r.Observation], codes: list[str]) -> r.Observation | None:
    candidates = [o for o in observations if o.loinc in codes and o.value is not None]
    return max(candidates, key=lambda o: o.effective or datetime.min.replace(tzinfo=timezone.utc), default=None)


def _bp_readings(observations: list[r.Observation]) -> list[tuple[datetime | None, float, float, str]]:
    """(time, systolic, diastolic, source) for every reading: panels with components, or paired single observations."""
    readings, singles = [], {}
    for obs in observations:
        parts = {c.code.code_in(LOINC): c.value for c in obs.components}
        if parts.get("8480-6") is not None and parts.get("8462-4") is not None:
            readings.append((obs.effective, parts["8480-6"], parts["8462-4"], f"Observation/{obs.id}"))
        elif obs.loinc in ("8480-6", "8462-4") and obs.value is not None:
            singles.setdefault(obs.effective, {})[obs.loinc] = (obs.value, obs.id)
    for when, pair in singles.items():
        if "8480-6" in pair and "8462-4" in pair:
            readings.append((when, pair["8480-6"][0], pair["8462-4"][0], f"Observation/{pair['8480-6'][1]}"))
    return sorted(readings, key=lambda x: x[0] or datetime.min.replace(tzinfo=timezone.utc))


def _measurements(observations: list[r.Observation], age: float | None, sex: str | None) -> dict[str, Measurement]:
    measures = phenotype_definitions().measures
    out: dict[str, Measurement] = {}
    for name, measure in measures.items():
        if name in ("sbp", "dbp"):
            continue
        obs = _latest(observations, measure.loinc)
        if obs is not None:
            value = _hba1c_percent(obs.value, obs.unit) if name == "hba1c" else obs.value
            out[name] = Measurement(name=name, label=measure.label, value=round(value, 2), unit=measure.unit,
                                    effective=obs.effective, source=f"Observation/{obs.id}")
    creatinine = out.get("creatinine")
    egfr = _derived_egfr(creatinine.value, age, sex) if creatinine and "egfr" not in out else None
    if egfr is not None:
        out["egfr"] = Measurement(name="egfr", label="eGFR", value=round(egfr, 1), unit=measures["egfr"].unit,
                                  effective=creatinine.effective, source=creatinine.source, note="CKD-EPI 2021 from serum creatinine")
    if "bmi" not in out and "weight" in out and "height" in out and out["height"].value > 0:
        bmi = out["weight"].value / (out["height"].value / 100) ** 2
        out["bmi"] = Measurement(name="bmi", label="BMI", value=round(bmi, 1), unit="kg/m2", effective=out["weight"].effective,
                                 note="from weight and height")
    readings = _bp_readings(observations)[-BP_READINGS:]
    if readings:
        note = f"mean of {len(readings)} latest reading(s)"
        for index, name in ((1, "sbp"), (2, "dbp")):
            mean = sum(x[index] for x in readings) / len(readings)
            out[name] = Measurement(name=name, label=measures[name].label, value=round(mean, 1), unit=measures[name].unit,
                                    effective=readings[-1][0], source=readings[-1][3], note=note)
    return out


# ---------------------------------------------------------------- building a context

def _race(patient: dict) -> list[str]:
    races = []
    for extension in patient.get("extension", []):
        if extension.get("url") != US_CORE_RACE:
            continue
        for part in extension.get("extension", []):
            coding = part.get("valueCoding") or {}
            text = part.get("valueString")
            races += [v for v in (coding.get("code"), coding.get("display"), text) if v]
    return races


def _age(birth: date | None, as_of: datetime) -> float | None:
    if birth is None:
        return None
    return round((as_of.date() - birth).days / 365.25, 1)


def _is_active_condition(record: r.Condition, as_of: datetime) -> bool:
    if record.verification_status in ("refuted", "entered-in-error"):
        return False
    if record.clinical_status not in (None, "active", "recurrence", "relapse"):
        return False
    return record.abatement is None or record.abatement > as_of


def _active_medications(resources: list[dict], records: list[r.Record]) -> list[MedicationItem]:
    items = [identify_medication(m.medication.label, f"MedicationRequest/{m.id}") for m in records
             if isinstance(m, r.MedicationRequest) and m.status == "active" and m.medication.label]
    for res in resources:
        if res.get("resourceType") == "MedicationStatement" and res.get("status") in ("active", "intended"):
            concept = read_concept(res.get("medicationCodeableConcept"))
            if concept and concept.label:
                items.append(identify_medication(concept.label, f"MedicationStatement/{res.get('id')}"))
    return items


def _pregnancy_status(observations: list[r.Observation]) -> bool | None:
    status = [o for o in observations if o.loinc == PREGNANCY_STATUS_LOINC and o.value_text]
    if not status:
        return None
    latest = max(status, key=lambda o: o.effective or datetime.min.replace(tzinfo=timezone.utc)).value_text.lower()
    return None if "unknown" in latest else not latest.startswith("not")


def _belongs(resource: dict, patient_id: str) -> bool:
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient_id
    subject = resource.get("subject") or resource.get("patient")
    return reference_id(subject, "Patient") == patient_id or reference_id(subject) == patient_id


def context_from_resources(resources: Iterable[dict], patient_id: str | None = None, as_of: datetime | None = None,
                           pregnant: bool | None = None) -> PatientContext:
    """A ``PatientContext`` from one patient's FHIR resources (other patients' resources are ignored).

    ``pregnant`` overrides what the record says. Raises ``InvalidInput`` naming the field when
    there is no patient, several patients and no ``patient_id``, or a resource is invalid.
    """
    resources = [res for res in resources if isinstance(res, dict) and res.get("resourceType") in _READ_TYPES]
    patients = [res for res in resources if res.get("resourceType") == "Patient"]
    if patient_id is None:
        if len(patients) != 1:
            raise InvalidInput(Problem("Patient", f"expected one Patient resource, found {len(patients)}; name the patient id", "required"))
        patient_id = patients[0].get("id")
    patient = next((p for p in patients if p.get("id") == patient_id), None)
    if patient is None:
        raise InvalidInput(Problem("Patient.id", f"no Patient with id {patient_id!r}", "not-found"))
    as_of = as_of or datetime.now(timezone.utc)
    mine = [res for res in resources if _belongs(res, patient_id)]
    records = [rec for rec in (record_from_fhir(res) for res in mine) if rec is not None]
    person = next(rec for rec in records if isinstance(rec, r.Patient))
    if isinstance(person.deceased, datetime):
        as_of = min(as_of, person.deceased)
    observations = [o for o in records if isinstance(o, r.Observation) and o.status not in ("entered-in-error", "cancelled")
                    and (o.effective is None or o.effective <= as_of)]
    age = _age(person.birth_date, as_of)
    race = _race(patient)
    context = PatientContext(
        patient_id=patient_id, as_of=as_of, deceased=bool(person.deceased), age=age, sex=person.gender, race=race,
        black=any(v == BLACK_OMB_CODE or "black" in v.lower() for v in race),
        pregnancy_status=pregnant if pregnant is not None else _pregnancy_status(observations),
        conditions=[ConditionFact(label=c.code.label, codings=c.code.codings, active=_is_active_condition(c, as_of),
                                  onset=c.onset or c.recorded, source=f"Condition/{c.id}") for c in records if isinstance(c, r.Condition)],
        measurements=_measurements(observations, age, person.gender),
        medications=_active_medications(mine, records))
    context.phenotypes = evaluate_phenotypes(context)
    return context


def context_from_bundle(bundle: object, patient_id: str | None = None, as_of: datetime | None = None,
                        pregnant: bool | None = None) -> PatientContext:
    """A ``PatientContext`` from a FHIR Bundle; the resources it reads are validated first (errors name the entry)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidInput(Problem("resourceType", "expected a FHIR Bundle", "structure"))
    resources = []
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") in _READ_TYPES:
            validate_resource(resource, f"Bundle.entry[{index}].resource")
            resources.append(resource)
    return context_from_resources(resources, patient_id, as_of, pregnant)


def context_from_store(connection, patient_id: str, as_of: datetime | None = None, pregnant: bool | None = None) -> PatientContext:
    """A ``PatientContext`` for a patient in the medai store (``NotFound`` when absent)."""
    from medai.store.clinical import get_resource, search

    resources = [get_resource(connection, "Patient", patient_id)]
    for resource_type in _READ_TYPES[1:]:
        resources += search(connection, resource_type, patient_id, limit=100_000)
    return context_from_resources(resources, patient_id, as_of, pregnant)


def parse_as_of(text: str | None) -> datetime | None:
    """A FHIR date or dateTime string as an aware datetime (None stays None)."""
    return parse_datetime(text) if text else None
