"""Order review in the service: a patient's resources from CDS Hooks prefetch or the store, the review itself,
and the prediction records and audit it leaves. Shared by the treatment API, its CDS services and its web page.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Engine

from medai.errors import InvalidInput, Problem
from medai.service.deps import audit
from medai.service.predictions import record_prediction
from medai.store import clinical
from medai.store.accounts import Principal
from medai.treatment.order_inputs import PatientData, patient_data, resources_from_bundle
from medai.treatment.orders import OrderReview, review_orders

API_PREFIX = "/api/v1/treatment"
ROLES = ("clinician", "service")
"""Who may call the treatment API (prescribers and EHR back ends)."""
STORE_TYPES = ("Observation", "Condition", "MedicationRequest", "MedicationStatement", "MedicationAdministration")
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&code=" + ",".join(
        f"http://loinc.org|{code}" for code in ("2160-0", "38483-4", "6301-6", "34714-6", "4092-3", "4090-7", "20578-1",
                                                "4089-9", "29463-7", "8302-2", "84413-4", "4548-4", "8480-6", "8462-4"))
    + "&_sort=-date&_count=500",
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
    "administrations": "MedicationAdministration?patient={{context.patientId}}&_sort=-effective-time&_count=100",
}
"""CDS Hooks prefetch templates: the patient, the labs and measures the engines read (creatinine, INR, vancomycin
levels, weight, height, genotypes, HbA1c, blood pressure), active orders, active conditions and recent administrations."""
PREFETCH_TYPES = {"observations": "Observation", "medications": "MedicationRequest", "conditions": "Condition",
                  "administrations": "MedicationAdministration"}


def store_resources(engine: Engine, patient_id: str, types: tuple[str, ...] = ("Patient", *STORE_TYPES)) -> list[dict]:
    """The patient's stored resources of ``types`` (``NotFound`` when the Patient is asked for and absent)."""
    found = []
    with engine.connect() as connection:
        if "Patient" in types:
            found.append(clinical.get_resource(connection, "Patient", patient_id))
        for resource_type in types:
            if resource_type != "Patient":
                found += clinical.search(connection, resource_type, patient_id, limit=100_000)
    return found


def prefetched_resources(engine: Engine, patient_id: str, prefetch: dict) -> tuple[list[dict], list[str]]:
    """Resources from the prefetch keys the EHR filled; the missing keys are read from the store.

    Returns the resources and the resource types read from the store.
    """
    resources: list[dict] = []
    from_store: list[str] = []
    patient = prefetch.get("patient")
    if patient is None:
        from_store.append("Patient")
    elif isinstance(patient, dict) and patient.get("resourceType") == "Patient":
        resources.append(patient)
    else:
        raise InvalidInput(Problem("prefetch.patient", "expected a FHIR Patient resource", "structure"))
    for key, resource_type in PREFETCH_TYPES.items():
        if prefetch.get(key) is None:
            from_store.append(resource_type)
        else:
            resources += [r for r in resources_from_bundle(prefetch[key], f"prefetch.{key}") if r.get("resourceType") == resource_type]
    if from_store:
        resources += store_resources(engine, patient_id, tuple(from_store))
    return resources, from_store


def stored_patient(request: Request, principal: Principal, patient_id: str, action: str) -> PatientData:
    """A stored patient's data for the engines; the read is audited."""
    data = patient_data(store_resources(request.app.state.engine, patient_id), patient_id)
    audit(request, principal, action, patient_id=patient_id)
    return data


def record_review(request: Request, principal: Principal, review: OrderReview, action: str) -> None:
    """Store and audit every model prediction behind a review."""
    for prediction in review.predictions:
        record_prediction(request.app.state.engine, principal, prediction, action=action)


def run_review(request: Request, principal: Principal, patient_id: str, orders: list[dict],
               selections: list[str] | None = None, action: str = "treatment:review") -> tuple[PatientData, OrderReview]:
    """Review ``orders`` for a stored patient: audited read, recommendations, recorded predictions."""
    data = stored_patient(request, principal, patient_id, f"read:{action}")
    review = review_orders(data, orders, selections)
    record_review(request, principal, review, action)
    return data, review
