"""The crisis response: stop the flow, show resources for the user's locale, offer a human, alert a clinician
(FHIR R4 ``Flag`` + ``Communication``) and write an audit record.

The message text never goes into the audit record (only the rule ids, risk and categories); the alert
to the care team carries the matched phrases so a clinician can judge it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from medai.assistant.safety.resources import ResourceFile, load_resources
from medai.assistant.safety.types import ScreenResult
from medai.store.audit import AuditEvent, append

FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
COMMUNICATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/communication-category"
SNOMED = "http://snomed.info/sct"
CRISIS_SYSTEM = "urn:medai:assistant:crisis-category"
SUICIDE_RISK_SNOMED = ("225444004", "At risk for suicide")
PRIORITY = {"imminent": "stat", "high": "urgent", "moderate": "asap", "low": "routine", "none": "routine"}
LABELS = {"suicide_self_harm": "suicide or self-harm", "harm_to_others": "harm to others", "abuse": "abuse",
          "medical_emergency": "medical emergency"}


@dataclass(frozen=True)
class CrisisResponse:
    """What the assistant does when the screen fires: shown to the user and sent to the care team."""

    result: ScreenResult
    locale: str
    message: str
    resources: list[dict]
    handoff_offer: str
    stop_flow: bool
    flag: dict | None = None
    communication: dict | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_dict(self) -> dict:
        """The response as JSON values (FHIR resources included when an alert was built)."""
        return {"risk": self.result.risk, "categories": list(self.result.categories), "locale": self.locale,
                "message": self.message, "resources": self.resources, "handoff_offer": self.handoff_offer,
                "stop_flow": self.stop_flow, "alert": {"flag": self.flag, "communication": self.communication}
                if self.flag else None}


def crisis_response(result: ScreenResult, locale: str | None = None, patient_id: str | None = None,
                    resources: ResourceFile | None = None) -> CrisisResponse:
    """Build the response to a screen result; the clinician alert is built for moderate risk and above."""
    resources = resources or load_resources()
    code, place = resources.locale(locale)
    words = resources.messages[code]
    shown = [{"name": r.name, "action": r.action, "contact": r.contact, "channel": r.channel}
             for r in place.resources if r.serves(result.categories)]
    if not result.stop:
        return CrisisResponse(result, code, words.low, shown, "", stop_flow=False)
    message = words.crisis
    if result.risk == "imminent":
        message = words.imminent.format(emergency_number=place.emergency_number) + " " + message
    flag = clinician_flag(result, patient_id)
    return CrisisResponse(result, code, message, shown, words.handoff, stop_flow=True, flag=flag,
                          communication=clinician_communication(result, flag, patient_id))


def _subject(patient_id: str | None) -> dict:
    return {"reference": f"Patient/{patient_id}"} if patient_id else {"display": "Unidentified assistant user"}


def _code(result: ScreenResult) -> dict:
    codings = [{"system": CRISIS_SYSTEM, "code": c, "display": LABELS[c]} for c in result.categories]
    if "suicide_self_harm" in result.categories:
        codings.insert(0, {"system": SNOMED, "code": SUICIDE_RISK_SNOMED[0], "display": SUICIDE_RISK_SNOMED[1]})
    text = f"Crisis screen: {result.risk} risk ({', '.join(LABELS[c] for c in result.categories) or 'unspecified'})"
    return {"coding": codings, "text": text}


def clinician_flag(result: ScreenResult, patient_id: str | None = None) -> dict:
    """A FHIR R4 ``Flag`` (behavioural, active) saying the patient screened at risk."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {"resourceType": "Flag", "id": uuid.uuid4().hex, "status": "active",
            "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "behavioral", "display": "Behavioral"}]}],
            "code": _code(result), "subject": _subject(patient_id), "period": {"start": now},
            "author": {"display": "medai assistant crisis screen"}}


def clinician_communication(result: ScreenResult, flag: dict, patient_id: str | None = None) -> dict:
    """A FHIR R4 ``Communication`` alerting the care team, about the flag, with the phrases that fired."""
    phrases = sorted({e.text for e in result.evidence if e.source == "rule" and e.text and not e.negated})
    fired = sorted({e.rule for e in result.evidence})
    lines = [f"The assistant's crisis screen rated a message {result.risk} risk "
             f"({', '.join(LABELS[c] for c in result.categories)}). The conversation was stopped and crisis "
             "resources and a human hand-off were offered. Please contact the patient."]
    if phrases:
        lines.append("Matched phrases: " + "; ".join(f'"{p}"' for p in phrases[:10]))
    lines.append("Rules/models: " + ", ".join(fired))
    return {"resourceType": "Communication", "id": uuid.uuid4().hex, "status": "completed",
            "category": [{"coding": [{"system": COMMUNICATION_CATEGORY, "code": "alert", "display": "Alert"}]}],
            "priority": PRIORITY[result.risk], "subject": _subject(patient_id),
            "about": [{"reference": f"Flag/{flag['id']}"}], "sent": datetime.now(UTC).isoformat(timespec="seconds"),
            "sender": {"display": "medai assistant crisis screen"},
            "payload": [{"contentString": "\n".join(lines)}]}


def audit_crisis(engine: Engine, response: CrisisResponse, actor: str, role: str, patient_id: str | None = None,
                 identity: dict[str, str] | None = None) -> int:
    """Append the audit record of a crisis response (no message text); returns its sequence number."""
    identity = identity or {}
    detail = {"risk": response.result.risk, "categories": list(response.result.categories), "locale": response.locale,
              "rules": sorted({e.rule for e in response.result.evidence}), "stop_flow": response.stop_flow,
              "flag_id": response.flag["id"] if response.flag else None, "lexicon": identity.get("lexicon")}
    return append(engine, AuditEvent(actor=actor, role=role, action="assistant.crisis", patient_id=patient_id,
                                     model_id=identity.get("model_id"), model_version=identity.get("model_version"),
                                     weights_sha256=identity.get("weights_sha256"), detail=detail))
