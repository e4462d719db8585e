"""Sepsis risk as a CDS Hooks card and a FHIR RiskAssessment."""

from __future__ import annotations

from medai.core import records
from medai.core.fhir import record_to_fhir
from medai.core.prediction import Prediction
from medai.risk.sepsis.monitor import risk_level

_INDICATOR = {"high": "critical", "moderate": "warning", "low": "info"}
SEPSIS_CONCEPT = records.Concept(codings=[records.Coding(system="http://snomed.info/sct", code="91302008", display="Sepsis (disorder)")],
                                 text="Sepsis")


def risk_assessment(prediction: Prediction) -> dict:
    """A FHIR RiskAssessment with the calibrated probability and the explanation as rationale."""
    level = risk_level(prediction.value, prediction.threshold or 1.0)
    record = records.RiskAssessment(
        id=prediction.id, patient_id=prediction.patient_id, status="final", code=SEPSIS_CONCEPT,
        method=records.Concept(text=f"{prediction.model.model_id} {prediction.model.model_version} "
                                    f"(weights sha256 {prediction.model.weights_sha256[:12]})"),
        occurrence=prediction.created,
        predictions=[records.RiskPrediction(outcome=SEPSIS_CONCEPT, probability=round(prediction.value, 4), qualitative_risk=level,
                                            rationale=prediction.explanation.summary)],
        note="; ".join(prediction.explanation.caveats) or None)
    return record_to_fhir(record)


def sepsis_card(prediction: Prediction, patient_url: str, source_url: str | None = None) -> dict:
    """A CDS Hooks card: risk level as indicator, top factors in the detail, a link to the patient page."""
    level = risk_level(prediction.value, prediction.threshold or 1.0)
    factors = "\n".join(f"- {c.note}" for c in prediction.explanation.contributions) or "- none raised the risk"
    detail = (f"**Top factors:**\n{factors}\n\nOperating threshold {prediction.threshold:.0%}. "
              f"Model {prediction.model.model_id} {prediction.model.model_version}.")
    card = {"uuid": prediction.id, "summary": prediction.label[:140], "detail": detail, "indicator": _INDICATOR[level],
            "source": {"label": "medai sepsis early warning", "topic": {"system": "http://snomed.info/sct", "code": "91302008",
                                                                          "display": "Sepsis"}},
            "links": [{"label": "Open the risk timeline in medai", "url": patient_url, "type": "absolute"}], "suggestions": []}
    if source_url:
        card["source"]["url"] = source_url
    if level == "high":
        card["suggestions"] = [{"label": "Record the sepsis risk assessment", "uuid": f"{prediction.id}-ra",
                                "actions": [{"type": "create", "description": "Create a RiskAssessment",
                                             "resource": risk_assessment(prediction)}]}]
    return card
