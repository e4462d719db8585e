"""NEWS2 predictions as CDS Hooks cards and FHIR RiskAssessments."""

from __future__ import annotations

from medai.core import records
from medai.core.fhir import record_to_fhir
from medai.core.prediction import Prediction
from medai.risk.news2 import News2Response

_INDICATOR = {"high": "critical", "medium": "warning", "low-medium": "warning", "low": "info"}
NEWS2_CONCEPT = records.Concept(codings=[records.Coding(system="http://snomed.info/sct", code="1104051000000101",
                                                        display="Royal College of Physicians NEWS2 score")],
                                text="NEWS2 clinical deterioration risk")


def news2_card(prediction: Prediction, response: News2Response, source_url: str | None = None) -> dict:
    """A CDS Hooks card: the score, the RCP response, the explanation and the model identity."""
    drivers = "\n".join(f"- {c.feature}: {c.value} {c.unit or ''} (+{c.contribution:g})" for c in prediction.explanation.contributions)
    caveats = "\n".join(f"- {c}" for c in prediction.explanation.caveats)
    detail = (f"**Recommended response:** {response.action}\n\n**Parameters:**\n{drivers}\n\n**Caveats:**\n{caveats}\n\n"
              f"Model {prediction.model.model_id} {prediction.model.model_version} (weights sha256 {prediction.model.weights_sha256[:12]}...)")
    card = {"uuid": prediction.id, "summary": prediction.label[:140], "detail": detail,
            "indicator": _INDICATOR.get(response.risk, "info"),
            "source": {"label": "medai NEWS2 early warning", "topic": {"system": "http://snomed.info/sct", "code": "1104051000000101", "display": "NEWS2 total score"}},
            "links": [], "suggestions": []}
    if source_url:
        card["source"]["url"] = source_url
    if response.risk in ("high", "medium"):
        card["suggestions"] = [{"label": "Record the NEWS2 risk assessment in the chart", "uuid": f"{prediction.id}-ra",
                                "actions": [{"type": "create", "description": "Create a RiskAssessment",
                                             "resource": risk_assessment(prediction)}]}]
    return card


def risk_assessment(prediction: Prediction) -> dict:
    """A FHIR RiskAssessment holding the prediction and its explanation."""
    record = records.RiskAssessment(
        id=prediction.id, patient_id=prediction.patient_id, status="final", code=NEWS2_CONCEPT,
        method=records.Concept(text=f"{prediction.model.model_id} {prediction.model.model_version}"),
        occurrence=prediction.created,
        predictions=[records.RiskPrediction(outcome=records.Concept(text="Clinical deterioration"),
                                            qualitative_risk=prediction.label.split(": ", 1)[-1],
                                            rationale=prediction.explanation.summary)],
        note="; ".join(prediction.explanation.caveats) or None)
    return record_to_fhir(record)
