"""Symptom-checker application adapter: ``POST /api/v1/symptoms/assess`` over :func:`medai.assistant.symptoms.assess`.

Patients and clinicians may call it. Each assessment is stored as a prediction (model id and version, the
knowledge base's sha256, a hash of the input; never the text itself) with its audit record.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.core.prediction import ModelIdentity, Prediction, hash_inputs
from medai.errors import InvalidInput, Problem
from medai.explain.types import Explanation, FeatureContribution
from medai.service.applications import Application
from medai.service.deps import require_roles
from medai.service.errors import read_json_body
from medai.service.predictions import record_prediction
from medai.store.accounts import Principal

API_PREFIX = "/api/v1/symptoms"
ROLES = ("patient", "clinician")
router = APIRouter(prefix=API_PREFIX, tags=["symptoms"])


class AssessBody(BaseModel):
    """The request: a free-text description, optionally age and sex."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=2, max_length=5000, description="What is wrong, in the person's own words.")
    age: float | None = Field(default=None, ge=0, le=120, description="Age in years.")
    sex: Literal["female", "male"] | None = None
    semantic: bool = Field(default=True, description="Use MiniLM similarity for phrases the vocabulary lacks.")


def _prediction(result: dict, body: AssessBody) -> Prediction:
    top = result["differential"][0] if result["differential"] else None
    contributions = result["explanation"][0]["contributions"] if result["explanation"] else []
    version = result["version"]
    return Prediction(
        model=ModelIdentity(model_id=version["model_id"], model_version=version["model_version"],
                            weights_sha256=version["knowledge_sha256"]),
        value=top["probability"] if top else 0.0,
        label=(f"triage {result['triage']}: {top['icd10cm']}" if top else f"triage {result['triage']}")[:128],
        probability=top["probability"] if top else None,
        explanation=Explanation(method="noisy-OR log-likelihood ratios", summary=result["rationale"][:1000],
                                contributions=[FeatureContribution(feature=c["finding"], value=str(c["present"]),
                                                                   contribution=c["log_likelihood_ratio"]) for c in contributions]),
        input_hash=hash_inputs(body.model_dump()))


@router.post("/assess")
async def assess_route(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Differential (condition, ICD-10-CM, probability), triage, rationale, findings, next steps and disclaimer."""
    from medai.assistant.symptoms import assess

    data = await read_json_body(request)
    try:
        body = AssessBody.model_validate(data)
    except ValidationError as error:
        raise InvalidInput([Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()[:20]]) from None
    result = assess(body.text, body.age, body.sex, semantic=body.semantic).to_dict()
    prediction = _prediction(result, body)
    record_prediction(request.app.state.engine, principal, prediction, action="predict:symptoms")
    return {**result, "prediction_id": prediction.id}


def symptoms_application() -> Application:
    """The symptom checker's contribution to the service."""
    return Application(name="symptoms", routers=[router])
