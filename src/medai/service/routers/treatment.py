"""Treatment application adapter: CDS Hooks ``order-select`` / ``order-sign`` services over the draft orders, the
``/api/v1/treatment`` JSON routes (thin adapters over the engines) and the prescriber web page.

Every read of a stored patient is audited and every model output (warfarin dose, vancomycin exposure) is stored
as a prediction with the model's id and version. The patient role is refused (prescribers and EHRs only).
"""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.errors import InvalidInput, Problem
from medai.service.applications import Application, CdsInvocation, CdsResult, CdsService
from medai.service.deps import audit, require_roles
from medai.service.errors import read_json_body
from medai.service.predictions import record_prediction
from medai.service.treatment_reviews import (API_PREFIX, PREFETCH, ROLES, prefetched_resources, run_review,
                                             stored_patient)
from medai.service.ui.treatment import router as ui_router
from medai.store.accounts import Principal
from medai.treatment import cards
from medai.treatment.order_inputs import patient_data, recent_kidney
from medai.treatment.orders import draft_orders, medication_name, renal_result, review_orders

router = APIRouter(prefix=API_PREFIX, tags=["treatment"])
Body = TypeVar("Body", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def _body(request: Request, model: type[Body]) -> Body:
    """The JSON body validated against ``model``; 422 naming each bad field."""
    data = await read_json_body(request)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput([Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()[:20]]) from None


# -- order review -----------------------------------------------------------------------------

class ReviewBody(_Strict):
    patient_id: str = Field(min_length=1, description="A patient in the medai store.")
    orders: list[dict] = Field(min_length=1, description="Draft FHIR R4 MedicationRequests.")
    selections: list[str] | None = Field(default=None, description="'MedicationRequest/<id>' to review (default: all).")


@router.post("/review")
async def review(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Every recommendation on draft orders for a stored patient (renal, interactions, warfarin, vancomycin) with its card."""
    body = await _body(request, ReviewBody)
    _, result = run_review(request, principal, body.patient_id, body.orders, body.selections)
    return {"patient_id": body.patient_id, "recommendations": [r.to_dict() for r in result.recommendations],
            "cards": result.cards(), "predictions": [p.id for p in result.predictions]}


# -- renal ------------------------------------------------------------------------------------

class KidneyBody(_Strict):
    creatinine_mg_dl: float
    age_years: float
    sex: Literal["male", "female"]
    weight_kg: float | None = None
    height_cm: float | None = None


class RenalBody(_Strict):
    medication_request: dict
    patient_id: str | None = Field(default=None, description="Read kidney function from this stored patient...")
    kidney: KidneyBody | None = Field(default=None, description="...or give the values.")
    regimen_id: str | None = None
    on_dialysis: bool = False


@router.post("/renal")
async def renal(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Renal dose recommendation for one MedicationRequest, with the proposed MedicationRequest and the card."""
    from medai.treatment.renal import estimate, recommend

    body = await _body(request, RenalBody)
    if (body.patient_id is None) == (body.kidney is None):
        raise InvalidInput(Problem("patient_id", "give either patient_id or kidney", "required"))
    order = body.medication_request
    label = medication_name(order)
    if body.kidney is not None:
        result = recommend(order, estimate(**body.kidney.model_dump()), regimen_id=body.regimen_id, on_dialysis=body.on_dialysis)
        limits: list[str] = []
    else:
        data = stored_patient(request, principal, body.patient_id, "read:treatment-renal")
        kidney = recent_kidney(data)
        result, limits = renal_result(data, order, kidney, body.on_dialysis, body.regimen_id), kidney.limits
    rec = cards.renal_recommendation(result, order, label, limits=limits)
    return {"recommendation": result.to_dict(), "card": cards.to_card(rec)}


# -- warfarin ---------------------------------------------------------------------------------

class WarfarinBody(_Strict):
    patient: dict | None = Field(default=None, description="WarfarinPatient fields (age_years, weight_kg, cyp2c9, vkorc1 ...).")
    patient_id: str | None = Field(default=None, description="Or read the inputs from this stored patient.")


@router.post("/warfarin")
async def warfarin(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Predicted stable weekly warfarin dose with interval, factors, IWPC doses and CPIC interpretation (recorded)."""
    from medai.treatment.dose_cards import warfarin_prediction
    from medai.treatment.order_inputs import warfarin_inputs
    from medai.treatment.warfarin.patient import WarfarinPatient
    from medai.treatment.warfarin.predict import recommend

    body = await _body(request, WarfarinBody)
    if (body.patient is None) == (body.patient_id is None):
        raise InvalidInput(Problem("patient", "give either patient (fields) or patient_id", "required"))
    if body.patient_id is not None:
        inputs = warfarin_inputs(stored_patient(request, principal, body.patient_id, "read:treatment-warfarin"))
        patient, limits = inputs.patient(), inputs.limits
    else:
        patient, limits = WarfarinPatient.build(**body.patient), []
        if patient.age_years is None and patient.age_decade is None or patient.weight_kg is None:
            raise InvalidInput(Problem("patient", "age and weight are required for a warfarin dose", "required"))
    rec = recommend(patient)
    prediction = warfarin_prediction(rec, body.patient_id, patient.model_dump(mode="json"))
    record_prediction(request.app.state.engine, principal, prediction, action="predict:warfarin")
    return {**rec.to_dict(), "limits": limits, "prediction_id": prediction.id}


class TitrationBody(_Strict):
    current_weekly_dose_mg: float
    inr: float
    target_range: tuple[float, float] = (2.0, 3.0)


@router.post("/warfarin/titration")
async def warfarin_titration(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Next weekly maintenance dose from a measured INR (nomogram)."""
    from medai.treatment.warfarin.titration import titrate

    body = await _body(request, TitrationBody)
    return asdict(titrate(body.current_weekly_dose_mg, body.inr, body.target_range))


# -- vancomycin -------------------------------------------------------------------------------

@router.post("/vancomycin")
async def vancomycin(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """AUC-guided regimen from a course (weight, kidney function, doses, levels; as ``medai treatment vancomycin``)."""
    from medai.treatment.dose_cards import vancomycin_prediction
    from medai.treatment.vancomycin import course_from_dict, recommend

    data = await read_json_body(request)
    if not isinstance(data, dict):
        raise InvalidInput(Problem("body", "expected a JSON object", "structure"))
    patient_id = data.pop("patient_id", None)
    mic = data.pop("mic_mg_l", None)
    result = recommend(course_from_dict(data), mic)
    prediction = vancomycin_prediction(result, patient_id, data)
    record_prediction(request.app.state.engine, principal, prediction, action="predict:vancomycin")
    return {**result.to_dict(), "prediction_id": prediction.id}


# -- interactions, regimens, oncology ---------------------------------------------------------

class InteractionsBody(_Strict):
    medications: list[str] = Field(default_factory=list)
    patient_id: str | None = Field(default=None, description="Add this stored patient's active medications.")


@router.post("/interactions")
async def interactions(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Drug-drug interactions on a medication list (plus a stored patient's active medications)."""
    from medai.treatment.interactions import check_interactions, identify_medication

    body = await _body(request, InteractionsBody)
    items = [identify_medication(m, "request") for m in body.medications]
    if body.patient_id is not None:
        items = stored_patient(request, principal, body.patient_id, "read:treatment-interactions").context.medications + items
    if len(items) < 2:
        raise InvalidInput(Problem("medications", "give at least two medications (or a patient with active ones)", "required"))
    report = check_interactions(items)
    return {"patient_id": body.patient_id, "counts": report.counts, **report.model_dump(mode="json")}


class RegimenBody(_Strict):
    patient_id: str
    condition: Literal["all", "diabetes", "hypertension"] = "all"
    pregnant: bool | None = None
    ascvd_risk: float | None = Field(default=None, ge=0, le=100)


@router.post("/regimen")
async def regimen(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Guideline regimens (ADA 2025 type 2 diabetes, 2017 ACC/AHA hypertension) for a stored patient."""
    from medai.treatment.patient_context import context_from_resources
    from medai.treatment.regimens.diabetes import diabetes_plan
    from medai.treatment.regimens.hypertension import hypertension_plan

    body = await _body(request, RegimenBody)
    data = stored_patient(request, principal, body.patient_id, "read:treatment-regimen")
    context = context_from_resources(data.resources, body.patient_id, pregnant=body.pregnant)
    plans = []
    if body.condition in ("all", "diabetes"):
        plans.append(diabetes_plan(context))
    if body.condition in ("all", "hypertension"):
        plans.append(hypertension_plan(context, ascvd_risk=body.ascvd_risk))
    return {"patient_id": body.patient_id, "plans": [p.model_dump(mode="json") for p in plans]}


class OncologyBody(_Strict):
    variants: list[str] = Field(min_length=1)
    tumour: str = Field(min_length=1)
    patient_id: str | None = None


@lru_cache(maxsize=2)
def civic_export(data_dir: Path | None):
    """The CIViC export under the data folder (read once)."""
    from medai.datasets import civic

    return civic.load(data_dir)


@router.post("/oncology")
async def oncology(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Therapies for cancer variants in a tumour type, ranked by CIViC evidence level."""
    from medai.datasets.registry import DatasetNotFound
    from medai.treatment.oncology.therapies import oncology_report
    from medai.treatment.oncology.variants import parse_variant

    body = await _body(request, OncologyBody)
    queries = [parse_variant(v, f"variants[{i}]") for i, v in enumerate(body.variants)]
    try:
        export = civic_export(request.app.state.settings.data_dir)
    except DatasetNotFound as error:
        raise HTTPException(404, f"the CIViC export is not installed: {error}") from None
    report = oncology_report(queries, body.tumour, export)
    audit(request, principal, "treatment:oncology", patient_id=body.patient_id, detail={"variants": len(queries)})
    return report.model_dump(mode="json")


# -- CDS Hooks --------------------------------------------------------------------------------

def _selected(context: dict) -> list[str] | None:
    selections = context.get("selections")
    if selections is None:
        return None
    if not isinstance(selections, list):
        raise InvalidInput(Problem("context.selections", "expected a list of 'Type/id' references", "structure"))
    return [s for s in selections if isinstance(s, str) and s.startswith("MedicationRequest/")]


def order_cds(invocation: CdsInvocation) -> CdsResult:
    """order-select / order-sign: recommendations on the draft MedicationRequests, from prefetch or the store."""
    context = invocation.context
    if "draftOrders" not in context:
        raise HTTPException(400, "context.draftOrders is required (a Bundle of the draft orders)")
    orders = draft_orders(context["draftOrders"])
    selections = _selected(context) if invocation.hook == "order-select" else None
    patient_id = context["patientId"]
    resources, _ = prefetched_resources(invocation.engine, patient_id, invocation.prefetch)
    result = review_orders(patient_data(resources, patient_id), orders, selections)
    base = str(invocation.request.base_url).rstrip("/")
    links = [{"label": "Open the prescriber view in medai", "url": f"{base}/ui/treatment?patient={patient_id}", "type": "absolute"}]
    return CdsResult(cards=result.cards(links=links), predictions=result.predictions)


def treatment_application() -> Application:
    """The treatment application's API, prescriber page and its two CDS services."""
    description = ("Renal dose adjustment, drug interactions, warfarin dose (learned model, IWPC, CPIC) and vancomycin "
                   "AUC dosing for the draft medication orders, with suggestions that update or cancel the order.")
    services = [CdsService(id="medai-order-select", hook="order-select", title="medai treatment: order select",
                           description=description + " Reviews the newly selected orders.", handler=order_cds, prefetch=PREFETCH),
                CdsService(id="medai-order-sign", hook="order-sign", title="medai treatment: order sign",
                           description=description + " Reviews every order about to be signed.", handler=order_cds,
                           prefetch=PREFETCH)]
    return Application(name="treatment", routers=[router, ui_router], cds_services=services)
