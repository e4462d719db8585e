"""Model-informed doses on a draft order: warfarin (learned model + IWPC + CPIC), INR titration and vancomycin
(Bayesian MAP), as :class:`~medai.treatment.cards.Recommendation` s with an ``update`` of the order, and as the
:class:`~medai.core.prediction.Prediction` s the service stores and audits (model id, version, input hash).
"""

from __future__ import annotations

import hashlib
from importlib import resources

from medai.core.prediction import ModelIdentity, Prediction, hash_inputs
from medai.explain.types import Explanation, FeatureContribution
from medai.treatment.cards import Recommendation, new_dose_suggestion
from medai.treatment.knowledge import FOLDER
from medai.treatment.renal.rules import Dose
from medai.treatment.vancomycin import VancomycinRecommendation
from medai.treatment.vancomycin import knowledge as vancomycin_knowledge
from medai.treatment.warfarin import iwpc
from medai.treatment.warfarin.predict import WarfarinRecommendation
from medai.treatment.warfarin.titration import TitrationStep

WARFARIN_STEP_MG = 0.5
VANCOMYCIN_MODEL_ID = "vancomycin-pk"


def daily_dose(mg: float, interval_h: float = 24) -> Dose:
    """A fixed dose every ``interval_h`` hours as a renal-table ``Dose``."""
    return Dose(text=f"{mg:g} mg q{interval_h:g}h", low=mg, high=mg, unit="mg", frequency=1, period=interval_h, period_unit="h")


def warfarin_daily_mg(weekly_mg: float) -> float:
    """The weekly dose as a daily tablet dose, to the nearest 0.5 mg (at least 0.5 mg)."""
    return max(WARFARIN_STEP_MG, round(weekly_mg / 7 / WARFARIN_STEP_MG) * WARFARIN_STEP_MG)


def _per_day(current: Dose | None) -> float | None:
    days = current.per_day() if current is not None and current.unit == "mg" else None
    return current.low * days if days else None


def warfarin_recommendation(rec: WarfarinRecommendation, order: dict, label: str, current: Dose | None,
                            sources: list[str], limits: list[str]) -> Recommendation:
    """Predicted weekly dose with interval, factors, IWPC doses and CPIC notes; ``update`` to the daily dose."""
    low, high = rec.interval_mg
    daily = warfarin_daily_mg(rec.predicted_weekly_dose_mg)
    ordered = _per_day(current)
    outside = ordered is not None and not low <= ordered * 7 <= high
    cpic = rec.cpic
    reasons = [f"Learned model {rec.model.get('model_id')} {rec.model.get('model_version')}: {rec.predicted_weekly_dose_mg:g} mg/week "
               f"({rec.interval_level:.0%} interval {low:g}-{high:g} mg/week), about {daily:g} mg/day.",
               "IWPC pharmacogenetic " + (f"{rec.iwpc_pharmacogenetic_mg:g} mg/week" if rec.iwpc_pharmacogenetic_mg else "not computed")
               + "; IWPC clinical " + (f"{rec.iwpc_clinical_mg:g} mg/week." if rec.iwpc_clinical_mg else "not computed."),
               "Factors: " + ", ".join(f"{f['factor']} {f['percent']:+g}%" for f in rec.to_dict()["factors"]) + "."]
    if ordered is not None:
        reasons.append(f"The order is {ordered:g} mg/day ({ordered * 7:g} mg/week): "
                       + ("outside the predicted interval." if outside else "within the predicted interval."))
    if cpic.cyp2c9_phenotype or cpic.vkorc1_sensitivity:
        reasons.append(f"CPIC: CYP2C9 {cpic.cyp2c9_phenotype or 'unknown'} (activity score {cpic.cyp2c9_activity_score}); "
                       f"VKORC1 {cpic.vkorc1_sensitivity or 'unknown'}.")
        if cpic.label_daily_dose_range_mg:
            reasons.append("Label range for this genotype pair: {:g}-{:g} mg/day.".format(*cpic.label_daily_dose_range_mg))
    reasons += [f"CPIC: {line}" for line in cpic.recommendations]
    reasons += [f"Read from the record: {source}." for source in sources]
    suggestions = [] if ordered == daily else [new_dose_suggestion(
        order, daily_dose(daily), f"Predicted stable warfarin dose {rec.predicted_weekly_dose_mg:g} mg/week "
                                  f"(interval {low:g}-{high:g}); adjust by INR.", f"Change to {daily:g} mg once daily")]
    return Recommendation(
        kind="warfarin", indicator="warning" if outside or cpic.consider_alternative else "info", order=label,
        summary=f"Warfarin: predicted {rec.predicted_weekly_dose_mg:g} mg/week ({daily:g} mg/day), interval {low:g}-{high:g}"
                + (f"; IWPC PG {rec.iwpc_pharmacogenetic_mg:g}" if rec.iwpc_pharmacogenetic_mg else ""),
        reasons=reasons, citations=[str(iwpc.knowledge().citation), cpic.citation,
                                    f"Model card: {rec.model.get('model_id')} {rec.model.get('model_version')}"],
        limits=[*limits, *rec.notes, "A starting estimate of the stable dose: titrate by INR."],
        suggestions=suggestions, details=rec.to_dict())


def titration_recommendation(step: TitrationStep, order: dict, label: str, inr_when: str) -> Recommendation:
    """INR-guided maintenance: the next weekly dose from the nomogram; ``update`` to its daily equivalent."""
    daily = warfarin_daily_mg(step.new_weekly_dose_mg)
    change = "keep" if step.change_percent == 0 else f"{step.change_percent:+g}% to"
    suggestions = [] if step.change_percent == 0 else [new_dose_suggestion(
        order, daily_dose(daily), f"INR {step.inr:g} on {inr_when}: {step.instruction}", f"Change to {daily:g} mg once daily")]
    return Recommendation(
        kind="warfarin-titration", indicator="warning" if step.hold or step.change_percent else "info", order=label,
        summary=f"INR {step.inr:g} ({inr_when}): {change} {step.new_weekly_dose_mg:g} mg/week"
                + (" and hold doses" if step.hold else ""),
        reasons=[f"Current warfarin {step.current_weekly_dose_mg:g} mg/week, INR {step.inr:g} on {inr_when}.", step.instruction],
        citations=[step.citation], limits=["Nomogram for maintenance therapy with target INR 2.0-3.0 only."],
        suggestions=suggestions, details={"inr": step.inr, "current_weekly_dose_mg": step.current_weekly_dose_mg,
                                          "new_weekly_dose_mg": step.new_weekly_dose_mg, "change_percent": step.change_percent,
                                          "hold": step.hold})


def vancomycin_recommendation(rec: VancomycinRecommendation, order: dict, label: str, current: Dose | None,
                              limits: list[str]) -> Recommendation:
    """The AUC-targeted regimen with predicted AUC24 and trough; ``update`` of the order to it."""
    best, fit = rec.regimen, rec.estimate
    basis = f"Bayesian MAP from {fit.levels_used} level(s)" if fit.levels_used else "population model only (no levels yet)"
    regimen = f"{best.dose_mg:g} mg q{best.interval_h:g}h"
    same = current is not None and (current.low, current.unit, current.per_day()) == (best.dose_mg, "mg", 24 / best.interval_h)
    reasons = [f"{basis}: CL {fit.cl_l_h:.2f} L/h, V {fit.v_l:.0f} L, half-life {fit.half_life_h:.1f} h.",
               f"{regimen} (infused over {best.infusion_h:g} h): predicted AUC24 {best.auc24:.0f} mg.h/L "
               f"(90% CI {best.auc24_90ci[0]:.0f}-{best.auc24_90ci[1]:.0f}), trough {best.trough_mg_l:.1f} mg/L, "
               f"peak {best.peak_mg_l:.1f} mg/L; target AUC24 {rec.target_auc24[0]:.0f}-{rec.target_auc24[1]:.0f} (MIC {rec.mic_mg_l:g}).",
               *(f"Alternative: {a.dose_mg:g} mg q{a.interval_h:g}h, AUC24 {a.auc24:.0f}, trough {a.trough_mg_l:.1f} mg/L."
                 for a in rec.alternatives)]
    suggestions = [] if same else [new_dose_suggestion(order, daily_dose(best.dose_mg, best.interval_h),
                                                       f"Vancomycin {regimen}: {basis}; predicted AUC24 {best.auc24:.0f}.",
                                                       f"Change to {regimen}")]
    return Recommendation(
        kind="vancomycin", indicator="warning" if suggestions and fit.levels_used else "info", order=label,
        summary=f"Vancomycin {regimen}: AUC24 {best.auc24:.0f} (target {rec.target_auc24[0]:.0f}-{rec.target_auc24[1]:.0f}), "
                f"trough {best.trough_mg_l:.1f} mg/L; {basis}",
        reasons=reasons, citations=list(rec.citations), limits=[*limits, *rec.warnings], suggestions=suggestions,
        details=rec.to_dict())


# -- predictions for the audit trail ----------------------------------------------------------

def warfarin_prediction(rec: WarfarinRecommendation, patient_id: str | None, inputs: dict) -> Prediction:
    """The warfarin dose prediction with its factors, for the prediction store and the audit log."""
    factors = [FeatureContribution(feature=f["factor"], contribution=f["percent"], unit="%") for f in rec.to_dict()["factors"]]
    low, high = rec.interval_mg
    return Prediction(patient_id=patient_id, model=ModelIdentity(**rec.model), value=rec.predicted_weekly_dose_mg,
                      label=f"Warfarin {rec.predicted_weekly_dose_mg:g} mg/week (interval {low:g}-{high:g})",
                      explanation=Explanation(method="per-factor contributions (learned warfarin model)",
                                              summary=f"Predicted stable weekly dose {rec.predicted_weekly_dose_mg:g} mg",
                                              contributions=factors, caveats=list(rec.notes)),
                      input_hash=hash_inputs(inputs))


def vancomycin_identity() -> ModelIdentity:
    """The population PK model's identity: its knowledge file version and the file's sha256."""
    text = resources.files("medai.assets").joinpath(f"{FOLDER}/vancomycin_pk.yaml").read_bytes()
    return ModelIdentity(model_id=VANCOMYCIN_MODEL_ID, model_version=vancomycin_knowledge().version,
                         weights_sha256=hashlib.sha256(text).hexdigest())


def vancomycin_prediction(rec: VancomycinRecommendation, patient_id: str | None, inputs: dict) -> Prediction:
    """The vancomycin regimen prediction (AUC24 of the chosen regimen), for the prediction store and the audit log."""
    best = rec.regimen
    return Prediction(patient_id=patient_id, model=vancomycin_identity(), value=round(best.auc24, 1),
                      label=f"Vancomycin {best.dose_mg:g} mg q{best.interval_h:g}h: AUC24 {best.auc24:.0f}",
                      explanation=Explanation(method="Bayesian MAP (one-compartment population PK)",
                                              summary=f"{rec.estimate.levels_used} level(s) used; CL {rec.estimate.cl_l_h:.2f} L/h, "
                                                      f"V {rec.estimate.v_l:.0f} L", caveats=list(rec.warnings)),
                      input_hash=hash_inputs(inputs))
