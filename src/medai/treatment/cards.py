"""Treatment recommendations at the moment of ordering, as CDS Hooks 2.0 cards.

Each engine's result for one draft ``MedicationRequest`` becomes a :class:`Recommendation`: an
indicator, a one-line summary, the reasons, the evidence (citations), the limits of the
recommendation and the suggestions a prescriber can accept. :func:`to_card` writes it as a CDS
Hooks 2.0 card (``uuid``, ``summary`` of at most 140 characters, ``detail`` in Markdown,
``indicator``, ``source``, ``suggestions`` with ``update``/``create``/``delete`` actions on the
order, ``selectionBehavior``, ``overrideReasons`` and ``links``); the prescriber page shows the
same object. The builders here cover renal dosing, drug interactions, warfarin dosing and
titration, vancomycin AUC dosing, drugs medai does not know and inputs it cannot use.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import asdict, dataclass, field
from typing import Literal

from medai.core.fhir.validate import validate_resource
from medai.errors import InvalidInput
from medai.treatment.interactions import InteractionFinding
from medai.treatment.renal import RenalRecommendation
from medai.treatment.renal.adjust import MEASURE_UNITS, adjusted_request
from medai.treatment.renal.rules import Dose

Indicator = Literal["info", "warning", "critical"]
SOURCE_LABEL = "medai treatment"
SUMMARY_LIMIT = 140
OVERRIDE_SYSTEM = "urn:medai:CodeSystem:cds-override-reason"
OVERRIDE_REASONS: list[dict] = [
    {"system": OVERRIDE_SYSTEM, "code": "dialysis-dosing-by-levels", "display": "Patient on dialysis, dosing by levels"},
    {"system": OVERRIDE_SYSTEM, "code": "benefit-outweighs-risk", "display": "Benefit outweighs risk"},
    {"system": OVERRIDE_SYSTEM, "code": "already-monitoring", "display": "Already monitoring (levels, INR, potassium, renal function)"},
    {"system": OVERRIDE_SYSTEM, "code": "not-clinically-relevant", "display": "Not clinically relevant for this patient"},
    {"system": OVERRIDE_SYSTEM, "code": "record-out-of-date", "display": "The patient's record is out of date"},
]
"""Coded reasons a prescriber can give when not following a card (CDS Hooks ``overrideReasons``)."""
INTERACTION_INDICATOR: dict[str, Indicator] = {"contraindicated": "critical", "major": "warning", "moderate": "info",
                                              "minor": "info"}


@dataclass
class Suggestion:
    """One action a prescriber can accept: update, create or delete the draft order."""

    label: str
    action: Literal["create", "update", "delete"]
    description: str
    resource: dict | None = None
    resource_id: str | None = None
    recommended: bool = True

    def to_spec(self) -> dict:
        """The CDS Hooks suggestion object (``delete`` names the order by ``resourceId``)."""
        action: dict = {"type": self.action, "description": self.description}
        if self.resource is not None:
            action["resource"] = self.resource
        if self.resource_id is not None:
            action["resourceId"] = self.resource_id
        return {"label": self.label, "uuid": str(uuid.uuid4()), "isRecommended": self.recommended, "actions": [action]}


@dataclass
class Recommendation:
    """One recommendation on one order: what to do, why, on what evidence, and within which limits.

    ``quiet`` recommendations (nothing to change) are shown on the prescriber page but not sent to the EHR.
    """

    kind: str
    indicator: Indicator
    summary: str
    order: str | None = None
    reasons: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    quiet: bool = False
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form (for the API)."""
        return asdict(self)


def detail_markdown(rec: Recommendation) -> str:
    """The card's ``detail``: reasons, evidence and limits as Markdown lists."""
    parts = []
    for title, lines in (("Why", rec.reasons), ("Evidence", rec.citations), ("Limits", rec.limits)):
        if lines:
            parts.append(f"**{title}:**\n" + "\n".join(f"- {line}" for line in lines))
    parts.append("Decision support only: check the order against the patient before signing.")
    return "\n\n".join(parts)


def _summary(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT - 1].rstrip() + "\u2026"


def to_card(rec: Recommendation, source_url: str | None = None, links: list[dict] | None = None) -> dict:
    """The CDS Hooks 2.0 card of a recommendation."""
    card: dict = {"uuid": str(uuid.uuid4()), "summary": _summary(rec.summary), "detail": detail_markdown(rec),
                  "indicator": rec.indicator, "source": {"label": f"{SOURCE_LABEL}: {rec.kind}"}, "links": list(links or [])}
    if source_url:
        card["source"]["url"] = source_url
    if rec.suggestions:
        card["suggestions"] = [s.to_spec() for s in rec.suggestions]
        card["selectionBehavior"] = "at-most-one"
    if rec.suggestions or rec.indicator != "info":
        card["overrideReasons"] = copy.deepcopy(OVERRIDE_REASONS)
    return card


# -- suggestions on the draft order -------------------------------------------------------------

def order_ref(order: dict) -> str | None:
    """``MedicationRequest/<id>`` of a draft order, when it has an id."""
    return f"MedicationRequest/{order['id']}" if order.get("id") else None


def as_update(order: dict, proposal: dict) -> dict:
    """``proposal`` (a renal-style proposal without id) as the same draft order with the new dosage (valid R4)."""
    updated = copy.deepcopy(proposal)
    updated.pop("priorPrescription", None)
    if order.get("priorPrescription"):
        updated["priorPrescription"] = order["priorPrescription"]
    for key in ("id", "status", "intent"):
        if key in order:
            updated[key] = order[key]
    validate_resource(updated, "suggested MedicationRequest")
    return updated


def dose_suggestion(order: dict, proposal: dict, label: str) -> Suggestion:
    """Change the draft order's dose: ``update`` when the order has an id, else ``create`` the proposal."""
    if order.get("id"):
        return Suggestion(label, "update", f"Update the draft order: {label.lower()}", resource=as_update(order, proposal))
    return Suggestion(label, "create", f"Create the order: {label.lower()}", resource=proposal)


def new_dose_suggestion(order: dict, dose: Dose, note: str, label: str) -> Suggestion:
    """Suggest ``dose`` in place of the draft order's dosage, with ``note`` saying why."""
    return dose_suggestion(order, adjusted_request(order, dose, note), label)


def cancel_suggestion(order: dict, label: str = "Cancel this order") -> list[Suggestion]:
    """A ``delete`` of the draft order (none when the order has no id to name)."""
    ref = order_ref(order)
    return [Suggestion(label, "delete", f"Remove {ref} from the orders being signed", resource_id=ref)] if ref else []


# -- builders per engine ----------------------------------------------------------------------

def _kidney_reason(result: RenalRecommendation) -> list[str]:
    kidney = result.kidney or {}
    if not kidney:
        return []
    crcl = f", Cockcroft-Gault CrCl {kidney['crcl']:.0f} mL/min" if kidney.get("crcl") is not None else ""
    when = f" on {kidney['creatinine_time']:%Y-%m-%d}" if kidney.get("creatinine_time") else ""
    return [f"Creatinine {kidney['creatinine_mg_dl']:g} mg/dL{when}: CKD-EPI 2021 eGFR {kidney['egfr']:.0f} mL/min/1.73 m2{crcl}."]


def renal_recommendation(result: RenalRecommendation, order: dict, label: str, alternatives: list[str] = (),
                         limits: list[str] = ()) -> Recommendation:
    """Renal dosing: ``update`` to the adjusted dose; ``delete`` when contraindicated or to avoid; info otherwise."""
    measure = MEASURE_UNITS.get(result.measure or "", "kidney function").split(" (")[0]
    shown = f"{measure} {result.kidney_value:.0f}" if result.kidney_value is not None else measure
    base = dict(kind="renal", order=label, citations=list(result.citations), details=result.to_dict(),
                limits=[*limits, *((result.kidney or {}).get("notes") or []), "Adult rules; dialysis dosing is not covered."])
    reasons = [result.message, *_kidney_reason(result)]
    if result.status == "adjust":
        suggestion = dose_suggestion(order, result.medication_request, f"Change to {result.recommended_dose}")
        return Recommendation(indicator="warning", summary=f"Reduce {result.drug} to {result.recommended_dose} for {shown} "
                              f"({result.band})", reasons=reasons, suggestions=[suggestion], **base)
    if result.status in ("contraindicated", "avoid"):
        verb = "contraindicated" if result.status == "contraindicated" else "to be avoided"
        extra = [f"Alternatives: {'; '.join(alternatives)}."] if alternatives else [
            "Alternatives: not in medai's knowledge for this drug; choose one with a pharmacist."]
        return Recommendation(indicator="critical" if result.status == "contraindicated" else "warning",
                              summary=f"{result.drug.capitalize()} is {verb} at {shown} ({result.band})",
                              reasons=reasons + extra, suggestions=cancel_suggestion(order, f"Cancel {result.drug}"), **base)
    if result.status == "not-assessed":
        why = result.message.split(";")[0].rstrip(".")
        return Recommendation(indicator="info", summary=f"No renal adjustment for {result.drug}: {why[:1].lower()}{why[1:]}",
                              reasons=reasons, **base)
    return Recommendation(indicator="info", summary=f"{result.drug.capitalize()}: no renal adjustment needed ({shown})",
                          reasons=reasons, quiet=True, **base)


def interaction_recommendation(finding: InteractionFinding, order: dict, label: str) -> Recommendation:
    """One interacting pair: severity as the indicator, management as the reason, cancel when contraindicated."""
    first, second = finding.ingredients
    suggestions = cancel_suggestion(order, f"Cancel {label}") if finding.severity == "contraindicated" else []
    return Recommendation(
        kind="interaction", indicator=INTERACTION_INDICATOR[finding.severity], order=label,
        summary=f"{finding.severity.capitalize()} interaction: {first} + {second}. {finding.effect}",
        reasons=[f"{finding.medications[0]} with {finding.medications[1]} ({finding.rule}).",
                 f"Effect: {finding.effect}", f"Mechanism: {finding.mechanism}", f"Management: {finding.management}"],
        citations=[str(finding.citation)], suggestions=suggestions, quiet=finding.severity == "minor",
        limits=["Curated table of clinically significant interactions, not an exhaustive compendium."],
        details=finding.model_dump(mode="json"))


def unrecognised_recommendation(label: str) -> Recommendation:
    """A drug medai does not know: say that nothing was checked (no dose is proposed)."""
    return Recommendation(kind="unrecognised", indicator="warning", order=label,
                          summary=f"Not checked: medai does not recognise {label!r}",
                          reasons=["The drug is not in the renal dosing table, the interaction lexicon or the dose models, "
                                   "so no renal dose, interaction or dose check was made and no dose is proposed."],
                          limits=["Check the spelling, or order by generic name."])


def problem_recommendation(kind: str, label: str | None, what: str, error: InvalidInput | str) -> Recommendation:
    """An engine could not run on this order because an input is missing or implausible; the problem is named."""
    problems = [f"{p.location}: {p.message}" for p in error.problems] if isinstance(error, InvalidInput) else [str(error)]
    return Recommendation(kind=kind, indicator="warning", order=label, summary=f"{what} not made: {problems[0]}",
                          reasons=problems, limits=["No dose is proposed until the input is corrected."])


def data_problems_recommendation(problems: list[str]) -> Recommendation:
    """Patient resources that were set aside (invalid or impossible values), so the prescriber knows what was not used."""
    return Recommendation(kind="data", indicator="warning", summary=f"{len(problems)} record(s) of this patient could not be used",
                          reasons=problems[:20], limits=["Recommendations below were made without these records."])
