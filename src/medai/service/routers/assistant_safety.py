"""The assistant's crisis screen over HTTP: ``POST /api/v1/assistant/screen``.

Same JSON as ``medai assistant screen --json`` (``{risk, categories, evidence}``), plus ``crisis`` (resources,
hand-off offer and the clinician alert as FHIR ``Flag``/``Communication``) when the screen stops the flow.
Every call is audited without the message text.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.assistant.safety.response import audit_crisis, crisis_response
from medai.assistant.safety.screen import default_screener
from medai.errors import InvalidInput, Problem
from medai.service.applications import Application
from medai.service.deps import audit, check_patient_access, require_roles
from medai.service.errors import read_json_body
from medai.store.accounts import Principal

ROLES = ("patient", "clinician", "service")
router = APIRouter(prefix="/api/v1/assistant", tags=["assistant"])


class ScreenBody(BaseModel):
    """A message to screen."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20000, description="The user's message.")
    locale: str | None = Field(default=None, max_length=16, description="e.g. en-US, en-GB, CA: selects crisis resources.")
    patient_id: str | None = Field(default=None, min_length=1, description="The patient the message is from.")


@router.post("/screen")
async def screen_message(request: Request, principal: Principal = Depends(require_roles(*ROLES))) -> dict:
    """Screen one message for suicide/self-harm, harm to others, abuse and medical emergency."""
    data = await read_json_body(request)
    try:
        body = ScreenBody.model_validate(data)
    except ValidationError as error:
        raise InvalidInput([Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
                            for e in error.errors()[:20]]) from None
    if not body.text.strip():
        raise InvalidInput(Problem("text", "the message is empty"))
    patient_id = body.patient_id or (principal.patient_id if principal.role == "patient" else None)
    if patient_id:
        check_patient_access(principal, patient_id)
    screener = default_screener()
    result = screener.screen(body.text)
    identity = screener.identity()
    out = result.to_dict()
    audit(request, principal, "assistant.screen", patient_id=patient_id, model_id=identity.get("model_id"),
          model_version=identity.get("model_version"), weights_sha256=identity.get("weights_sha256"),
          detail={"risk": result.risk, "categories": list(result.categories), "lexicon": identity["lexicon"],
                  "rules": sorted({e.rule for e in result.evidence})})
    if result.risk != "none":
        response = crisis_response(result, body.locale, patient_id)
        if response.stop_flow:
            audit_crisis(request.app.state.engine, response, principal.username, principal.role, patient_id, identity)
        out["crisis"] = response.to_dict()
    return out


def assistant_safety_application() -> Application:
    """The crisis-screen API of the assistant."""
    return Application(name="assistant-safety", routers=[router])
