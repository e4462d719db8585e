"""Review draft medication orders for one patient: every treatment engine that applies to each order.

For each draft ``MedicationRequest`` (the CDS Hooks ``draftOrders``, or an order typed on the
prescriber page), :func:`review_orders` runs the renal rules (from a creatinine of the last
``CREATININE_DAYS`` days), the interaction check against the active medications and the other
draft orders, the warfarin dose model (and INR titration when the patient already takes warfarin)
and vancomycin AUC dosing, and returns :class:`~medai.treatment.cards.Recommendation` s with the
model :class:`~medai.core.prediction.Prediction` s to store. A drug no engine knows, a missing
lab or an implausible value gives a recommendation that says so; no engine falls back to a
default dose.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from medai.core.fhir import record_from_fhir, validate_resource
from medai.core.prediction import Prediction
from medai.errors import InvalidInput
from medai.treatment import cards
from medai.treatment.cards import Recommendation
from medai.treatment.dose_cards import (titration_recommendation, vancomycin_prediction, vancomycin_recommendation,
                                        warfarin_prediction, warfarin_recommendation)
from medai.treatment.interactions import MedicationItem, check_interactions, identify_medication
from medai.treatment.order_inputs import (CREATININE_DAYS, PatientData, RecentKidney, current_inr, recent_kidney,
                                          resources_from_bundle, vancomycin_history, warfarin_inputs)
from medai.treatment.patient_context import PatientContext
from medai.treatment.renal import RenalRecommendation
from medai.treatment.renal import recommend as renal_recommend
from medai.treatment.renal.adjust import current_dose
from medai.treatment.renal.rules import find_regimens
from medai.treatment.vancomycin import VancomycinCourse
from medai.treatment.vancomycin import recommend as vancomycin_recommend


@dataclass
class OrderReview:
    """Everything found on the draft orders, and the model predictions behind it."""

    recommendations: list[Recommendation] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)

    def cards(self, source_url: str | None = None, links: list[dict] | None = None) -> list[dict]:
        """CDS Hooks cards of the recommendations worth interrupting for (quiet ones left out), most severe first."""
        order = {"critical": 0, "warning": 1, "info": 2}
        shown = sorted((r for r in self.recommendations if not r.quiet), key=lambda r: order[r.indicator])
        return [cards.to_card(r, source_url, links) for r in shown]


def medication_name(order: dict) -> str:
    """The medication text and codings' displays of an order (what the engines match on)."""
    concept = order.get("medicationCodeableConcept") or {}
    reference = order.get("medicationReference") or {}
    names = [concept.get("text"), *(c.get("display") for c in concept.get("coding", [])), reference.get("display")]
    return " ".join(dict.fromkeys(n for n in names if n)) or "(no medication named)"


def draft_orders(draft_bundle: object) -> list[dict]:
    """The ``MedicationRequest`` s of a ``draftOrders`` Bundle (other order types are not reviewed here)."""
    return [res for res in resources_from_bundle(draft_bundle, "context.draftOrders") if res.get("resourceType") == "MedicationRequest"]


@dataclass
class _Order:
    resource: dict
    name: str
    ref: str | None
    item: MedicationItem


def _is_vancomycin(name: str) -> bool:
    return re.search(r"\bvancomycin\b", name.lower()) is not None


def _oral(order: dict) -> bool:
    route = ((order.get("dosageInstruction") or [{}])[0].get("route") or {})
    text = " ".join([route.get("text") or "", *(c.get("display") or c.get("code") or "" for c in route.get("coding", []))]).lower()
    return "oral" in text or "mouth" in text or "26643006" in text


def review_orders(data: PatientData, orders: list[dict], selections: list[str] | None = None,
                  creatinine_days: int = CREATININE_DAYS) -> OrderReview:
    """Recommendations for the ``selections`` (``MedicationRequest/<id>``; all when None) among ``orders``."""
    review = OrderReview()
    if data.problems:
        review.recommendations.append(cards.data_problems_recommendation(data.problems))
    parsed: list[_Order] = []
    for index, order in enumerate(orders):
        name, ref = medication_name(order), cards.order_ref(order)
        try:
            validate_resource(order, f"draftOrders[{index}]")
            record_from_fhir({"id": "draft", **order})
        except InvalidInput as error:
            review.recommendations.append(cards.problem_recommendation("order", name, "Order check", error))
            continue
        parsed.append(_Order(order, name, ref, identify_medication(name, ref)))
    kidney = _kidney(data, creatinine_days)
    seen: set[tuple] = set()
    for order in parsed:
        if selections is not None and order.ref not in selections:
            continue
        others = [o.item for o in parsed if o is not order] + [m for m in data.context.medications if m.source_id != order.ref]
        _review_one(review, data, order, others, kidney, seen)
    return review


def _kidney(data: PatientData, days: int) -> RecentKidney | InvalidInput:
    try:
        return recent_kidney(data, days)
    except InvalidInput as error:
        return error


def _review_one(review: OrderReview, data: PatientData, order: _Order, others: list[MedicationItem],
                kidney: RecentKidney | InvalidInput, seen: set[tuple]) -> None:
    regimens = find_regimens(order.name)
    warfarin, vancomycin = "warfarin" in order.item.ingredients, _is_vancomycin(order.name)
    if not (regimens or order.item.ingredients or vancomycin):
        review.recommendations.append(cards.unrecognised_recommendation(order.name))
        return
    if regimens:
        review.recommendations.append(_renal(data, order, kidney))
    for finding in check_interactions([order.item, *others]).findings:
        key = (finding.id, frozenset(finding.ingredients))
        if order.name in finding.medications and key not in seen:
            seen.add(key)
            review.recommendations.append(cards.interaction_recommendation(finding, order.resource, order.name))
    if warfarin:
        _warfarin(review, data, order, [o.label for o in others if o.source_id and o.source_id.startswith("MedicationRequest/")])
    if vancomycin:
        _vancomycin(review, data, order, kidney)


# -- renal ------------------------------------------------------------------------------------

def renal_result(data: PatientData, order: dict, kidney: RecentKidney, on_dialysis: bool = False,
                 regimen_id: str | None = None) -> RenalRecommendation:
    """The renal rules for one order: not assessed on dialysis or without a recent creatinine (the message says why).

    Raises ``InvalidInput`` for an unknown drug, an ambiguous regimen or an invalid order.
    """
    if on_dialysis or data.on_dialysis:
        return renal_recommend(order, on_dialysis=True, regimen_id=regimen_id)
    if kidney.kidney is None:
        result = renal_recommend(order, patient=data.patient, observations=[], regimen_id=regimen_id)
        return dataclasses.replace(result, message=f"{kidney.message}; no renal dose adjustment made.")
    return renal_recommend(order, kidney=kidney.kidney, regimen_id=regimen_id)


def _renal(data: PatientData, order: _Order, kidney: RecentKidney | InvalidInput) -> Recommendation:
    try:
        if isinstance(kidney, InvalidInput):
            raise kidney
        result = renal_result(data, order.resource, kidney)
    except InvalidInput as error:
        return cards.problem_recommendation("renal", order.name, "Renal dose check", error)
    alternatives = _alternatives(data.context, order.item.classes) if result.status in ("contraindicated", "avoid") else []
    return cards.renal_recommendation(result, order.resource, order.name, alternatives, limits=kidney.limits)


def _alternatives(context: PatientContext, classes: list[str]) -> list[str]:
    """Other drug classes the guideline regimen ranks for this patient, when the drug belongs to one (diabetes, BP)."""
    from medai.treatment.regimens.diabetes import diabetes_knowledge, diabetes_plan
    from medai.treatment.regimens.hypertension import hypertension_knowledge, hypertension_plan

    for knowledge, plan in ((diabetes_knowledge(), diabetes_plan), (hypertension_knowledge(), hypertension_plan)):
        own = {o.id for o in knowledge.options if set(o.classes) & set(classes)}
        if own:
            result = plan(context)
            if not result.applicable or not result.ranked:
                return [f"{knowledge.guideline} options not ranked for this patient ({(result.message or 'no usable option').rstrip('.')})"]
            ranked = [f"{o.label} ({', '.join(o.agents[:2])})" for o in result.ranked if o.id not in own][:3]
            return [*ranked, f"ranked for this patient by {knowledge.guideline}"]
    return []


# -- warfarin ---------------------------------------------------------------------------------

def _warfarin(review: OrderReview, data: PatientData, order: _Order, other_orders: list[str]) -> None:
    from medai.treatment.warfarin.predict import recommend

    inputs = warfarin_inputs(data, other_orders)
    current = current_dose(record_from_fhir({"id": "draft", **order.resource}))
    try:
        patient = inputs.patient()
    except InvalidInput as error:
        review.recommendations.append(cards.problem_recommendation("warfarin", order.name, "Warfarin dose prediction", error))
    else:
        rec = recommend(patient)
        review.recommendations.append(warfarin_recommendation(rec, order.resource, order.name, current, inputs.sources,
                                                              inputs.limits))
        review.predictions.append(warfarin_prediction(rec, data.patient_id, inputs.fields))
    _titration(review, data, order)


def _titration(review: OrderReview, data: PatientData, order: _Order) -> None:
    """When the patient already takes warfarin and has a recent INR, the nomogram's next weekly dose."""
    from medai.treatment.warfarin.titration import titrate

    inr = current_inr(data)
    active = [res for res in data.of_type("MedicationRequest") if res.get("status") == "active" and res.get("id") != order.resource.get("id")
              and "warfarin" in identify_medication(medication_name(res)).ingredients]
    doses = [current_dose(record_from_fhir(res)) for res in active]
    weekly = [d.low * d.per_day() * 7 for d in doses if d is not None and d.unit == "mg" and d.per_day()]
    if inr is None or not weekly:
        return
    try:
        step = titrate(round(weekly[0], 1), inr.value)
    except InvalidInput as error:
        review.recommendations.append(cards.problem_recommendation("warfarin-titration", order.name, "INR titration", error))
        return
    review.recommendations.append(titration_recommendation(step, order.resource, order.name, f"{inr.effective:%Y-%m-%d}"))


# -- vancomycin -------------------------------------------------------------------------------

def _vancomycin(review: OrderReview, data: PatientData, order: _Order, kidney: RecentKidney | InvalidInput) -> None:
    what = "Vancomycin AUC dosing"
    if _oral(order.resource):
        review.recommendations.append(Recommendation(kind="vancomycin", indicator="info", order=order.name, quiet=True,
                                                     summary="Oral vancomycin: not absorbed, no AUC dosing"))
        return
    if isinstance(kidney, InvalidInput) or kidney.kidney is None or kidney.kidney.crcl is None:
        reason = kidney if isinstance(kidney, InvalidInput) else (
            f"no creatinine clearance: {kidney.message}" if kidney.kidney is None else "no body weight for Cockcroft-Gault CrCl")
        review.recommendations.append(cards.problem_recommendation("vancomycin", order.name, what, reason))
        return
    history = vancomycin_history(data)
    limits = list(history.limits)
    try:
        course = VancomycinCourse(kidney.kidney.weight_kg, round(kidney.kidney.crcl, 1))
        for start, amount, hours in history.doses:
            course.add_dose(start, amount, hours)
        for when, level, kind in history.levels:
            if when is None or when <= 0:
                limits.append(f"A vancomycin {kind} level of {level:g} mg/L has no recorded dose before it; not used.")
            else:
                course.add_level(when, level)
        rec = vancomycin_recommend(course)
    except InvalidInput as error:
        review.recommendations.append(cards.problem_recommendation("vancomycin", order.name, what, error))
        return
    current = current_dose(record_from_fhir({"id": "draft", **order.resource}))
    review.recommendations.append(vancomycin_recommendation(rec, order.resource, order.name, current, limits))
    inputs = {"weight_kg": course.weight_kg, "crcl_ml_min": course.crcl_ml_min, "doses": history.doses,
              "levels": [(t, c) for t, c, _ in history.levels]}
    review.predictions.append(vancomycin_prediction(rec, data.patient_id, inputs))
