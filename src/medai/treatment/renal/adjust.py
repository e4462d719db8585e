"""Renal dose recommendations: the rule that applies to a MedicationRequest and the adjusted MedicationRequest.

The adjusted request is a FHIR R4 ``MedicationRequest`` proposal (status ``draft``, intent ``proposal``)
pointing at the original through ``priorPrescription``; a CDS card can offer it as a suggestion.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from datetime import date

from medai.core.codes import UCUM
from medai.core.fhir.read import record_from_fhir
from medai.core.fhir.validate import validate_resource
from medai.core.records import MedicationRequest, Observation, Patient
from medai.errors import InvalidInput, Problem
from medai.treatment.renal.kidney import KidneyFunction, NoCreatinine, from_records
from medai.treatment.renal.rules import Band, Dose, Regimen, choose_regimen

MEASURE_UNITS = {"crcl": "CrCl (mL/min)", "egfr": "eGFR (mL/min/1.73 m2)"}
UCUM_CODES = {"mg": "mg", "g": "g", "mcg": "ug", "mg/kg": "mg/kg"}


@dataclass(frozen=True)
class RenalRecommendation:
    """What the renal rules say for one medication, and the proposed new MedicationRequest if any.

    ``status``: ``adjust`` (a new dose is proposed), ``no-change``, ``avoid``, ``contraindicated`` or
    ``not-assessed`` (kidney function unknown; ``message`` says why).
    """

    status: str
    message: str
    drug: str | None = None
    regimen_id: str | None = None
    indication: str | None = None
    measure: str | None = None
    kidney_value: float | None = None
    band: str | None = None
    recommended_dose: str | None = None
    citations: list[str] = field(default_factory=list)
    kidney: dict | None = None
    medication_request: dict | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def current_dose(request: MedicationRequest) -> Dose | None:
    """The dose a MedicationRequest record carries, when it has an amount and a timing."""
    if request.dose_value is None or request.dose_unit is None:
        return None
    unit = {"ug": "mcg"}.get(request.dose_unit, request.dose_unit)
    period_unit = request.period_unit if request.period_unit in ("h", "d", "wk") else None
    return Dose(text=f"{request.dose_value:g} {unit}", low=request.dose_value, high=request.dose_value, unit=unit,
                frequency=request.frequency if period_unit else None, period=request.period if period_unit else None,
                period_unit=period_unit)


def _new_dose(band: Band, regimen: Regimen, current: Dose | None) -> Dose:
    """The dose the band proposes; percentages apply to the current dose (or the regimen's usual dose)."""
    target = band.dose
    if target.percent is None:
        return target
    base = current if current is not None and current.low is not None else regimen.usual
    scale = target.percent / 100
    interval = target if target.period is not None else base
    low, high = round(base.low * scale, 3), round(base.high * scale, 3)
    text = f"{low:g}{f'-{high:g}' if high != low else ''} {base.unit}" + (
        f" q{interval.period:g}{interval.period_unit}" if interval.frequency == 1 else
        f" {interval.frequency}x/{interval.period_unit}" if interval.frequency else "")
    return Dose(text=text, low=low, high=high, unit=base.unit, frequency=interval.frequency, period=interval.period,
                period_unit=interval.period_unit)


def _within(current: Dose | None, proposed: Dose) -> bool:
    """Whether the current daily amount is already at or below the proposed maximum (same unit)."""
    if current is None or current.unit != proposed.unit or current.per_day() is None or proposed.per_day() is None:
        return False
    return current.low * current.per_day() <= proposed.high * proposed.per_day() + 1e-9


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": UCUM_CODES[unit]}


def adjusted_request(original: dict, dose: Dose, note: str) -> dict:
    """A proposal MedicationRequest replacing the original's dosage with ``dose`` (valid FHIR R4)."""
    proposal = copy.deepcopy(original)
    old_id = proposal.pop("id", None)
    proposal.pop("meta", None)
    proposal.update(status="draft", intent="proposal")
    if old_id:
        proposal["priorPrescription"] = {"reference": f"MedicationRequest/{old_id}"}
    old = (original.get("dosageInstruction") or [{}])[0]
    amount = ({"doseQuantity": _quantity(dose.low, dose.unit)} if dose.low == dose.high else
              {"doseRange": {"low": _quantity(dose.low, dose.unit), "high": _quantity(dose.high, dose.unit)}})
    dosage = {"text": dose.text, "doseAndRate": [amount],
              "timing": {"repeat": {"frequency": dose.frequency, "period": dose.period, "periodUnit": dose.period_unit}}}
    if old.get("route"):
        dosage["route"] = old["route"]
    proposal["dosageInstruction"] = [dosage]
    proposal["note"] = [*proposal.get("note", []), {"text": note}]
    validate_resource(proposal, "adjusted MedicationRequest")
    return proposal


def recommend(medication_request: dict, kidney: KidneyFunction | None = None, patient: Patient | None = None,
              observations: list[Observation] | None = None, regimen_id: str | None = None,
              on_dialysis: bool = False, today: date | None = None) -> RenalRecommendation:
    """The renal recommendation for one FHIR MedicationRequest.

    Kidney function is ``kidney`` or is estimated from ``patient`` and ``observations`` (latest labs).
    Raises :class:`InvalidInput` for an invalid request, an unknown drug or implausible labs.
    """
    validate_resource(medication_request, "medicationRequest")
    request = record_from_fhir({"id": "unsaved", **medication_request})
    name = " ".join(filter(None, [request.medication.text, *(c.display for c in request.medication.codings)]))
    current = current_dose(request)
    regimen = choose_regimen(name, current, regimen_id)
    base = dict(drug=regimen.drug, regimen_id=regimen.id, indication=regimen.indication, measure=regimen.measure,
                citations=[str(c) for c in regimen.citations])
    if on_dialysis:
        return RenalRecommendation(status="not-assessed", message="Patient on dialysis: these rules do not cover dialysis "
                                   "dosing; ask a pharmacist or nephrologist.", **base)
    if kidney is None:
        if patient is None:
            raise InvalidInput(Problem("patient", "give kidney function or the patient with observations", "required"))
        try:
            kidney = from_records(patient, observations or [], today)
        except NoCreatinine as exc:
            return RenalRecommendation(status="not-assessed", message=f"{exc}; no renal dose adjustment made.", **base)
    value = kidney.value(regimen.measure)
    if value is None:
        return RenalRecommendation(status="not-assessed", kidney=asdict(kidney), message=f"{regimen.drug} is dosed by "
                                   f"Cockcroft-Gault CrCl, which needs a body weight; no renal dose adjustment made.", **base)
    band = regimen.band_for(value)
    where = band.describe(MEASURE_UNITS[regimen.measure])
    shown = f"{MEASURE_UNITS[regimen.measure].split(' ')[0]} {value:.0f}"
    result = dict(base, kidney=asdict(kidney), kidney_value=round(value, 1), band=where)
    if band.action == "usual":
        return RenalRecommendation(status="no-change", message=f"{shown}: no renal adjustment for {regimen.drug} "
                                   f"({where}). {band.text or ''}".strip(), **result)
    if band.action in ("avoid", "contraindicated"):
        verb = "is contraindicated" if band.action == "contraindicated" else "should be avoided"
        return RenalRecommendation(status=band.action, message=f"{shown}: {regimen.drug} {verb} ({where}). "
                                   f"{band.text or ''} Choose an alternative.".strip(), **result)
    proposed = _new_dose(band, regimen, current)
    if _within(current, proposed):
        return RenalRecommendation(status="no-change", recommended_dose=proposed.text, message=f"{shown}: current "
                                   f"{regimen.drug} dose is within the renal limit of {proposed.text} ({where}).", **result)
    note = " ".join(filter(None, [f"Renal dose adjustment ({shown}, {where}): {proposed.text}.", band.text,
                                  f"Source: {regimen.citations[0]}"]))
    return RenalRecommendation(status="adjust", recommended_dose=proposed.text, message=note,
                               medication_request=adjusted_request(medication_request, proposed, note), **result)
