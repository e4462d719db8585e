"""What order review reads about a patient, from FHIR R4 resources, and the engine inputs made from it.

``patient_data`` reads one patient's resources (a CDS Hooks prefetch, a Bundle or the store): each
resource is validated and turned into a ``medai.core`` record on its own, so one bad resource (an
impossible creatinine, a unit that does not convert) is set aside with a message naming it instead
of failing the whole review. From the result come the inputs of the dose engines: recent kidney
function, a ``WarfarinPatient`` and a ``VancomycinCourse``. Missing inputs are reported, never filled
with defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property

from medai.core import records as r
from medai.core.fhir import record_from_fhir, validate_resource
from medai.core.fhir.datatypes import parse_datetime, read_concept, reference_id
from medai.errors import InvalidInput, NotFound, Problem
from medai.treatment.genotypes import warfarin_genotypes
from medai.treatment.interactions import identify_medication
from medai.treatment.patient_context import PatientContext, context_from_resources
from medai.treatment.renal.kidney import CREATININE_LOINC, HEIGHT_LOINC, WEIGHT_LOINC, KidneyFunction, from_records
from medai.treatment.warfarin.patient import WarfarinPatient

CREATININE_DAYS = 90
"""A creatinine older than this is not used for renal dosing (the card says so)."""
INR_LOINC = ("6301-6", "34714-6")
INR_DAYS = 7
VANCOMYCIN_LEVEL_LOINC = {"4092-3": "trough", "4090-7": "peak", "20578-1": "random", "4089-9": "level"}
VANCOMYCIN_COURSE_DAYS = 7
LEVEL_UNITS = {None: 1.0, "mg/L": 1.0, "ug/mL": 1.0, "µg/mL": 1.0, "mcg/mL": 1.0, "umol/L": 1.4486}
"""To mg/L (vancomycin 1449.3 g/mol: 1 umol/L = 1.4493 mg/L)."""
OMB_RACE = {"2106-3": "white", "2028-9": "asian", "2054-5": "black"}
US_CORE_ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
DIALYSIS_CODES = {"Z99.2", "Z49", "Z49.01", "Z49.31", "36689008", "265764009", "302497006", "108241001"}
ENZYME_INDUCERS = {"carbamazepine", "phenytoin", "rifampin"}


@dataclass
class PatientData:
    """One patient's readable resources and records, and the resources that had to be set aside."""

    patient_id: str
    patient: r.Patient
    resources: list[dict]
    observations: list[r.Observation]
    as_of: datetime
    problems: list[str] = field(default_factory=list)

    @cached_property
    def context(self) -> PatientContext:
        """Demographics, conditions, measures, active medications and phenotypes (regimens, interactions)."""
        return context_from_resources(self.resources, self.patient_id, self.as_of)

    def of_type(self, resource_type: str) -> list[dict]:
        """The patient's raw resources of one type."""
        return [res for res in self.resources if res.get("resourceType") == resource_type]

    def latest(self, codes: tuple[str, ...] | list[str], since: datetime | None = None) -> r.Observation | None:
        """The latest numeric Observation with one of the LOINC ``codes`` (after ``since``, when given)."""
        found = [o for o in self.observations if o.loinc in codes and o.value is not None
                 and (since is None or (o.effective is not None and o.effective >= since))]
        return max(found, key=lambda o: o.effective or datetime.min.replace(tzinfo=timezone.utc), default=None)

    @property
    def on_dialysis(self) -> bool:
        """An active Condition or procedure says the patient is on dialysis."""
        for condition in self.context.conditions:
            codes = {c.code for c in condition.codings}
            if condition.active and (codes & DIALYSIS_CODES or "dialysis" in condition.label.lower()):
                return True
        return False


def _readable(resource: dict, index: int, problems: list[str]) -> dict | None:
    where = f"{resource.get('resourceType', 'resource')}/{resource.get('id', index)}"
    try:
        validate_resource(resource, where)
        record_from_fhir(resource)
    except (InvalidInput, KeyError, ValueError) as error:
        problems.append(f"{where} was not used: {error}")
        return None
    return resource


def _belongs(resource: dict, patient_id: str) -> bool:
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient_id
    subject = resource.get("subject") or resource.get("patient")
    return reference_id(subject, "Patient") == patient_id or reference_id(subject) == patient_id


def patient_data(resources: list[dict], patient_id: str, as_of: datetime | None = None) -> PatientData:
    """Read ``patient_id``'s resources (others are ignored); ``NotFound`` when the Patient is not among them."""
    problems: list[str] = []
    mine = [res for res in resources if isinstance(res, dict) and _belongs(res, patient_id)]
    usable = [res for i, res in enumerate(mine) if _readable(res, i, problems) is not None]
    patient_resource = next((res for res in usable if res.get("resourceType") == "Patient"), None)
    if patient_resource is None:
        raise NotFound(f"Patient/{patient_id}")
    patient = record_from_fhir(patient_resource)
    records = [record_from_fhir(res) for res in usable if res.get("resourceType") == "Observation"]
    observations = [o for o in records if o.status not in ("entered-in-error", "cancelled")]
    return PatientData(patient_id=patient_id, patient=patient, resources=usable, observations=observations,
                       as_of=as_of or datetime.now(timezone.utc), problems=problems)


def resources_from_bundle(bundle: object, location: str) -> list[dict]:
    """The resources of a FHIR Bundle (a searchset from prefetch, or a transaction); 400-style error otherwise."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidInput(Problem(location, "expected a FHIR Bundle", "structure"))
    return [e["resource"] for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


# -- kidney function --------------------------------------------------------------------------

@dataclass
class RecentKidney:
    """Kidney function from a creatinine of the last ``CREATININE_DAYS`` days, or why there is none."""

    kidney: KidneyFunction | None
    message: str | None = None
    limits: list[str] = field(default_factory=list)


def recent_kidney(data: PatientData, days: int = CREATININE_DAYS) -> RecentKidney:
    """CKD-EPI eGFR and Cockcroft-Gault CrCl from the latest creatinine of the last ``days`` days.

    Raises ``InvalidInput`` naming the field for implausible values (e.g. age under 18, missing sex).
    """
    since = data.as_of - timedelta(days=days)
    recent = data.latest(CREATININE_LOINC, since)
    if recent is None:
        older = data.latest(CREATININE_LOINC)
        limits = [f"Latest creatinine {older.value:g} mg/dL on {older.effective:%Y-%m-%d} is older than {days} days."] if older else []
        return RecentKidney(None, f"no creatinine in the last {days} days", limits)
    observations = [o for o in data.observations if o.loinc not in CREATININE_LOINC or o is recent]
    kidney = from_records(data.patient, observations, data.as_of.date())
    return RecentKidney(kidney, limits=list(kidney.notes))


# -- warfarin ---------------------------------------------------------------------------------

def _race(data: PatientData) -> str:
    races = {OMB_RACE[code] for code in data.context.race if code in OMB_RACE}
    return races.pop() if len(races) == 1 else "unknown"


def _hispanic(patient: dict) -> bool | None:
    for extension in patient.get("extension", []):
        if extension.get("url") == US_CORE_ETHNICITY:
            codes = {(part.get("valueCoding") or {}).get("code") for part in extension.get("extension", [])}
            return True if "2135-2" in codes else False if "2186-5" in codes else None
    return None


@dataclass
class WarfarinInputs:
    """The fields of a ``WarfarinPatient`` read from the record, where each came from, and what is missing."""

    fields: dict
    sources: list[str]
    missing: list[str]
    limits: list[str]

    def patient(self) -> WarfarinPatient:
        """The validated ``WarfarinPatient``; ``InvalidInput`` names what is missing (age, weight) or implausible."""
        if self.missing:
            raise InvalidInput([Problem(m, "not on record; needed for a warfarin dose", "required") for m in self.missing])
        return WarfarinPatient.build(**self.fields)


def warfarin_inputs(data: PatientData, other_orders: list[str] = ()) -> WarfarinInputs:
    """Age, size, sex, race, genotypes and co-medications for warfarin dosing (``other_orders``: draft drugs)."""
    context = data.context
    weight, height = data.latest((WEIGHT_LOINC,)), data.latest((HEIGHT_LOINC,))
    genotypes = warfarin_genotypes(data.of_type("Observation"))
    ingredients = {i for m in context.medications for i in m.ingredients}
    classes = {c for m in context.medications for c in m.classes}
    for text in other_orders:
        item = identify_medication(text)
        ingredients |= set(item.ingredients)
        classes |= set(item.classes)
    fields = dict(patient_id=data.patient_id, age_years=context.age, sex=context.sex if context.sex in ("male", "female") else None,
                  weight_kg=weight.value if weight else None, height_cm=height.value if height else None,
                  race=_race(data), hispanic=_hispanic(next(iter(data.of_type("Patient")), {})),
                  amiodarone="amiodarone" in ingredients, enzyme_inducer=bool(ingredients & ENZYME_INDUCERS),
                  statin="statin" in classes, aspirin="aspirin" in ingredients, azole="azole_antifungal" in classes,
                  sulfonamide="sulfonamide_antibiotic" in classes, macrolide="macrolide" in classes,
                  diabetes=context.has("diabetes"), heart_failure=context.has("heart_failure"), **genotypes.values)
    sources = [f"{name} from {where}" for name, where in genotypes.sources.items()]
    sources += [f"{m.describe()}" for m in (context.measurements.get("weight"), context.measurements.get("height")) if m]
    missing = [label for label, value in (("age (Patient.birthDate)", context.age), ("body weight (LOINC 29463-7)", fields["weight_kg"]))
               if value is None]
    limits = list(genotypes.problems)
    if "cyp2c9" not in genotypes.values or "vkorc1" not in genotypes.values:
        limits.append("No CYP2C9 and VKORC1 genotype on record (LOINC 84413-4 genotype Observations): the dose rests on "
                      "clinical factors; genotyping would narrow it.")
    if height is None:
        limits.append("No body height on record: the IWPC doses cannot be computed.")
    if fields["race"] == "unknown":
        limits.append("Race not recorded as one OMB category: the IWPC 'missing or mixed race' term applies.")
    limits.append("Smoking, target INR and indication are not read from the record; the model treats them as unknown.")
    return WarfarinInputs(fields, sources, missing, limits)


def current_inr(data: PatientData, days: int = INR_DAYS) -> r.Observation | None:
    """The latest INR of the last ``days`` days."""
    return data.latest(INR_LOINC, data.as_of - timedelta(days=days))


# -- vancomycin -------------------------------------------------------------------------------

@dataclass
class VancomycinHistory:
    """Doses given (MedicationAdministration) and levels measured in the current course, times in hours from the first dose."""

    start: datetime | None
    doses: list[tuple[float, float, float | None]]
    levels: list[tuple[float, float, str]]
    limits: list[str] = field(default_factory=list)


def _is_vancomycin(concept: dict | None) -> bool:
    found = read_concept(concept)
    names = " ".join([found.label, *(c.display or "" for c in found.codings)]) if found else ""
    return re.search(r"\bvancomycin\b", names.lower()) is not None


def _administration(resource: dict) -> tuple[datetime, float, float | None] | None:
    period = resource.get("effectivePeriod") or {}
    start = parse_datetime(resource.get("effectiveDateTime") or period.get("start"))
    end = parse_datetime(period.get("end"))
    dose = (resource.get("dosage") or {}).get("dose") or {}
    unit = dose.get("code") or dose.get("unit")
    if start is None or dose.get("value") is None or unit not in ("mg", "g"):
        return None
    amount = float(dose["value"]) * (1000 if unit == "g" else 1)
    return start, amount, (end - start).total_seconds() / 3600 if end and end > start else None


def vancomycin_history(data: PatientData, days: int = VANCOMYCIN_COURSE_DAYS) -> VancomycinHistory:
    """The vancomycin doses and levels of the last ``days`` days; what could not be used is listed in ``limits``."""
    since = data.as_of - timedelta(days=days)
    limits: list[str] = []
    given = []
    for resource in data.of_type("MedicationAdministration"):
        if resource.get("status") not in ("completed", "in-progress") or not _is_vancomycin(resource.get("medicationCodeableConcept")):
            continue
        read = _administration(resource)
        if read is None:
            limits.append(f"MedicationAdministration/{resource.get('id')}: no time or no dose in mg or g; not used.")
        elif read[0] >= since:
            given.append(read)
    given.sort(key=lambda d: d[0])
    start = given[0][0] if given else None
    levels = []
    for obs in data.observations:
        kind = VANCOMYCIN_LEVEL_LOINC.get(obs.loinc or "")
        if kind is None or obs.value is None or obs.effective is None or obs.effective < since:
            continue
        if obs.unit not in LEVEL_UNITS:
            limits.append(f"Observation/{obs.id}: vancomycin level unit {obs.unit!r} is not mg/L or ug/mL; not used.")
            continue
        when = None if start is None else (obs.effective - start).total_seconds() / 3600
        levels.append((when, obs.value * LEVEL_UNITS[obs.unit], kind))
    doses = [((when - start).total_seconds() / 3600, amount, hours) for when, amount, hours in given]
    return VancomycinHistory(start, doses, levels, limits)
