"""Readmission risk of an encounter as a FHIR RiskAssessment and a CDS Hooks card."""

from __future__ import annotations

from medai.core import records
from medai.core.fhir import record_to_fhir
from medai.core.prediction import Prediction

_INDICATOR = {"high": "warning", "moderate": "info", "low": "info"}
READMISSION_CONCEPT = records.Concept(
    codings=[records.Coding(system="http://snomed.info/sct", code="417005", display="Hospital re-admission (procedure)")],
    text="Readmission to hospital within 30 days of discharge")


def _level(prediction: Prediction) -> str:
    return prediction.label.rsplit("(", 1)[-1].rstrip(")") if prediction.label.endswith(")") else "unknown"


def risk_assessment(prediction: Prediction, encounter_id: str | None = None) -> dict:
    """A FHIR R4 RiskAssessment for the encounter: calibrated probability, level, explanation, model identity."""
    record = records.RiskAssessment(
        id=prediction.id, patient_id=prediction.patient_id, status="final", code=READMISSION_CONCEPT,
        method=records.Concept(text=f"{prediction.model.model_id} {prediction.model.model_version} "
                                    f"(weights sha256 {prediction.model.weights_sha256[:12]})"),
        occurrence=prediction.created,
        predictions=[records.RiskPrediction(outcome=READMISSION_CONCEPT, probability=round(prediction.value, 4),
                                            qualitative_risk=_level(prediction), rationale=prediction.explanation.summary)],
        note="; ".join(prediction.explanation.caveats) or None)
    resource = record_to_fhir(record)
    if encounter_id is not None:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    resource["prediction"][0]["whenRange"] = {"high": {"value": 30, "unit": "days", "system": "http://unitsofmeasure.org",
                                                       "code": "d"}}
    return resource


def readmission_card(prediction: Prediction, encounter_id: str | None = None, source_url: str | None = None) -> dict:
    """A CDS Hooks card (e.g. for a discharge hook): risk, top factors, and a RiskAssessment suggestion when high."""
    level = _level(prediction)
    factors = "\n".join(f"- {c.feature}: {c.note}" for c in prediction.explanation.contributions) or "- none above average"
    detail = (f"**Top factors:**\n{factors}\n\nOperating threshold {prediction.threshold or 0:.0%}. "
              f"Model {prediction.model.model_id} {prediction.model.model_version}.")
    card = {"uuid": prediction.id, "summary": prediction.label[:140], "detail": detail, "indicator": _INDICATOR.get(level, "info"),
            "source": {"label": "medai readmission risk", "topic": {"system": "http://snomed.info/sct", "code": "417005",
                                                                     "display": "Hospital re-admission"}},
            "links": [], "suggestions": []}
    if source_url:
        card["source"]["url"] = source_url
    if level == "high":
        card["suggestions"] = [{"label": "Record the readmission risk and plan transition-of-care follow-up",
                                "uuid": f"{prediction.id}-ra",
                                "actions": [{"type": "create", "description": "Create a RiskAssessment",
                                             "resource": risk_assessment(prediction, encounter_id)}]}]
    return card
