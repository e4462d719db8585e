"""The prescriber page of the web UI: choose a stored patient, type a drug order (drug, dose, frequency, route) and
see each recommendation on it with its reasons, evidence and limits: renal dosing, drug interactions, warfarin and
vancomycin dosing, and the guideline regimen options for the patient's diabetes or hypertension.

The review takes the same path as ``POST /api/v1/treatment/review`` (audited read, predictions recorded). Staff
only (clinicians and admins); a form that cannot be read comes back with the problem and a 422.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from medai.errors import InvalidInput, NotFound, Problem
from medai.service.deps import audit
from medai.service.treatment_reviews import run_review
from medai.service.ui.routes import STAFF, _forbidden, _page, signed_in
from medai.store import clinical
from medai.store.accounts import Principal
from medai.treatment.order_inputs import PatientData
from medai.treatment.regimens.plan import RegimenPlan

router = APIRouter(tags=["ui"])
SECTION = "treatment"
FREQUENCIES = {"q24h": ("once daily", 24.0), "q12h": ("twice daily (every 12 h)", 12.0), "q8h": ("every 8 h", 8.0),
               "q6h": ("every 6 h", 6.0), "q48h": ("every 48 h", 48.0)}
UNITS = ("mg", "g", "mcg", "mg/kg")
ROUTES = ("oral", "intravenous", "subcutaneous")


@dataclass
class OrderForm:
    """What the prescriber typed."""

    patient: str = ""
    drug: str = ""
    dose: str = ""
    unit: str = "mg"
    frequency: str = "q24h"
    route: str = "oral"


def draft_order(form: OrderForm) -> dict:
    """The typed order as a draft FHIR R4 MedicationRequest; ``InvalidInput`` names each unusable field."""
    problems = []
    if not form.patient:
        problems.append(("patient", "choose a patient"))
    if not form.drug.strip():
        problems.append(("drug", "type the drug, e.g. 'dabigatran 150 mg capsule'"))
    try:
        dose = float(form.dose.replace(",", "."))
        if not 0 < dose < 100_000:
            raise ValueError
    except ValueError:
        problems.append(("dose", f"{form.dose!r} is not a dose amount greater than 0"))
        dose = None
    if form.unit not in UNITS:
        problems.append(("unit", f"choose one of {', '.join(UNITS)}"))
    if form.frequency not in FREQUENCIES:
        problems.append(("frequency", f"choose one of {', '.join(FREQUENCIES)}"))
    if problems:
        raise InvalidInput([Problem(where, message) for where, message in problems])
    label, hours = FREQUENCIES[form.frequency]
    return {"resourceType": "MedicationRequest", "id": f"ui-{uuid.uuid4().hex[:12]}", "status": "draft", "intent": "order",
            "subject": {"reference": f"Patient/{form.patient}"}, "medicationCodeableConcept": {"text": form.drug.strip()},
            "dosageInstruction": [{"text": f"{dose:g} {form.unit} {form.route} {label}", "route": {"text": form.route},
                                   "timing": {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}},
                                   "doseAndRate": [{"doseQuantity": {"value": dose, "unit": form.unit}}]}]}


def regimen_plans(data: PatientData) -> list[RegimenPlan]:
    """The diabetes and hypertension regimens that apply to the patient."""
    from medai.treatment.regimens.diabetes import diabetes_plan
    from medai.treatment.regimens.hypertension import hypertension_plan

    return [plan for plan in (diabetes_plan(data.context), hypertension_plan(data.context)) if plan.applicable]


def _form_page(request: Request, principal: Principal, form: OrderForm, status_code: int = 200, **results) -> HTMLResponse:
    with request.app.state.engine.connect() as connection:
        patients = clinical.list_patients(connection)
    audit(request, principal, "ui:list-patients", patient_id=form.patient or None, detail={"patients": len(patients)})
    return _page(request, "treatment.html", principal, status_code=status_code, section=SECTION, patients=patients, form=form,
                 frequencies=FREQUENCIES, units=UNITS, routes=ROUTES, **results)


@router.get("/ui/treatment", response_class=HTMLResponse)
def treatment_form(request: Request, patient: str = "", principal: Principal = Depends(signed_in)) -> Response:
    """The order form (the patient preselected when given)."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "The prescriber view is for clinicians.")
    return _form_page(request, principal, OrderForm(patient=patient))


@router.post("/ui/treatment", response_class=HTMLResponse)
def treatment_review(request: Request, patient: str = Form(""), drug: str = Form(""), dose: str = Form(""),
                     unit: str = Form("mg"), frequency: str = Form("q24h"), route: str = Form("oral"),
                     principal: Principal = Depends(signed_in)) -> Response:
    """Review the typed order for the patient and show every recommendation with its reasons, evidence and limits."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "The prescriber view is for clinicians.")
    form = OrderForm(patient, drug, dose, unit, frequency, route)
    try:
        order = draft_order(form)
        data, review = run_review(request, principal, patient, [order], action="ui:treatment-review")
    except InvalidInput as error:
        return _form_page(request, principal, form, 422, problems=[f"{p.location}: {p.message}" for p in error.problems])
    except NotFound:
        return _form_page(request, principal, form, 404, problems=[f"patient: there is no patient with id {patient!r}"])
    return _form_page(request, principal, form, order=order, recommendations=review.recommendations, data=data,
                      plans=regimen_plans(data), predictions=review.predictions)
