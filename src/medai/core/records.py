"""Typed clinical records: what medai's applications read and write.

Records carry the clinical meaning of a FHIR resource in plain typed fields, with
references reduced to ids and quantities in canonical units. ``medai.core.fhir``
converts them from and to FHIR R4 JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Coding(BaseModel):
    """One code from a code system."""

    model_config = ConfigDict(frozen=True)
    system: str | None = None
    code: str | None = None
    display: str | None = None


class Concept(BaseModel):
    """A coded concept: one or more codings plus free text."""

    codings: list[Coding] = Field(default_factory=list)
    text: str | None = None

    def code_in(self, system: str) -> str | None:
        """The first code from ``system``, if any."""
        return next((c.code for c in self.codings if c.system == system), None)

    @property
    def label(self) -> str:
        """A human-readable label: the text, else the first display, else the first code."""
        for candidate in [self.text, *(c.display for c in self.codings), *(c.code for c in self.codings)]:
            if candidate:
                return candidate
        return ""


class Record(BaseModel):
    """Base of every record: a FHIR logical id and the patient it belongs to."""

    resource_type: ClassVar[str]
    id: str
    patient_id: str | None = None


class Patient(Record):
    resource_type: ClassVar[str] = "Patient"
    mrn: str | None = None
    family_name: str | None = None
    given_names: list[str] = Field(default_factory=list)
    gender: str | None = None
    birth_date: date | None = None
    deceased: datetime | bool | None = None
    city: str | None = None
    state: str | None = None

    @property
    def display_name(self) -> str:
        """Given names then family name."""
        return " ".join([*self.given_names, self.family_name or ""]).strip()


class Encounter(Record):
    resource_type: ClassVar[str] = "Encounter"
    status: str
    class_code: str | None = None
    type: list[Concept] = Field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    location: str | None = None
    reasons: list[Concept] = Field(default_factory=list)
    reason_references: list[str] = Field(default_factory=list, description="'Type/id' of Conditions or Observations that are the reason.")


class Component(BaseModel):
    """A component of a panel observation (e.g. systolic in a blood-pressure panel)."""

    code: Concept
    value: float | None = None
    unit: str | None = None


class Observation(Record):
    resource_type: ClassVar[str] = "Observation"
    encounter_id: str | None = None
    status: str
    category: str | None = None
    code: Concept
    effective: datetime | None = None
    value: float | None = Field(default=None, description="Numeric value in the canonical unit.")
    unit: str | None = None
    value_text: str | None = Field(default=None, description="String or coded value as text.")
    components: list[Component] = Field(default_factory=list)

    @property
    def loinc(self) -> str | None:
        """The LOINC code of the observation."""
        from medai.core.codes import LOINC

        return self.code.code_in(LOINC)


class Condition(Record):
    resource_type: ClassVar[str] = "Condition"
    encounter_id: str | None = None
    code: Concept
    clinical_status: str | None = None
    verification_status: str | None = None
    onset: datetime | None = None
    abatement: datetime | None = None
    recorded: datetime | None = None


class MedicationRequest(Record):
    resource_type: ClassVar[str] = "MedicationRequest"
    encounter_id: str | None = None
    status: str
    intent: str
    medication: Concept
    authored_on: datetime | None = None
    dosage_text: str | None = None
    dose_value: float | None = None
    dose_unit: str | None = None
    frequency: int | None = None
    period: float | None = None
    period_unit: str | None = None
    as_needed: bool | None = None


class AllergyIntolerance(Record):
    resource_type: ClassVar[str] = "AllergyIntolerance"
    code: Concept
    clinical_status: str | None = None
    criticality: str | None = None
    category: list[str] = Field(default_factory=list)
    recorded: datetime | None = None


class DiagnosticReport(Record):
    resource_type: ClassVar[str] = "DiagnosticReport"
    encounter_id: str | None = None
    status: str
    code: Concept
    effective: datetime | None = None
    issued: datetime | None = None
    result_ids: list[str] = Field(default_factory=list)
    conclusion: str | None = None


class ImagingSeries(BaseModel):
    """One series of an imaging study."""

    uid: str
    modality: str
    body_site: str | None = None
    number_of_instances: int | None = None


class ImagingStudy(Record):
    resource_type: ClassVar[str] = "ImagingStudy"
    encounter_id: str | None = None
    status: str
    study_uid: str | None = None
    started: datetime | None = None
    modalities: list[str] = Field(default_factory=list)
    series: list[ImagingSeries] = Field(default_factory=list)
    number_of_series: int | None = None
    number_of_instances: int | None = None
    description: str | None = None


class DocumentReference(Record):
    resource_type: ClassVar[str] = "DocumentReference"
    encounter_id: str | None = None
    status: str
    type: Concept | None = None
    date: datetime | None = None
    content_type: str | None = None
    text: str | None = Field(default=None, description="The note's text, decoded from the attachment.")
    title: str | None = None


class Appointment(Record):
    resource_type: ClassVar[str] = "Appointment"
    status: str
    service_type: Concept | None = None
    description: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    practitioner_ids: list[str] = Field(default_factory=list)


class RiskPrediction(BaseModel):
    """One predicted outcome of a risk assessment."""

    outcome: Concept
    probability: float | None = None
    qualitative_risk: str | None = None
    rationale: str | None = None


class RiskAssessment(Record):
    resource_type: ClassVar[str] = "RiskAssessment"
    status: str
    method: Concept | None = None
    code: Concept | None = None
    occurrence: datetime | None = None
    basis_ids: list[str] = Field(default_factory=list)
    predictions: list[RiskPrediction] = Field(default_factory=list)
    note: str | None = None


RECORD_TYPES: dict[str, type[Record]] = {
    cls.resource_type: cls
    for cls in (Patient, Encounter, Observation, Condition, MedicationRequest, AllergyIntolerance,
                DiagnosticReport, ImagingStudy, DocumentReference, Appointment, RiskAssessment)
}
