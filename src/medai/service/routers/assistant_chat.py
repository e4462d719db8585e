"""The patient assistant's chat API (``/api/v1/assistant``): consent, conversations and messages, and the
patient chat page. A thin adapter over ``medai.assistant.chat``.

Patients start, use, read and delete only their own conversations; clinicians and admins may read the
conversations the crisis screen flagged (to follow up); every read is audited, denied ones too. Retention
(days) and the crisis level come from the settings (``MEDAI_ASSISTANT_RETENTION_DAYS``,
``MEDAI_ASSISTANT_CRISIS_LEVEL``) when it defines them.

The CDS Hooks service ``assistant-crisis-alerts`` (``patient-view``) shows a critical card for each active
crisis ``Flag`` of the patient, linking to the flagged conversation; :func:`warm_up_chat` loads the crisis
model in the background when the app starts.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.assistant.chat import store
from medai.assistant.chat.alerts import crisis_flags, flag_categories
from medai.assistant.chat.conversations import Actor, ConversationService, conversation_of
from medai.assistant.chat.manager import DialogueManager
from medai.assistant.safety.response import LABELS
from medai.errors import InvalidInput, NotFound, Problem
from medai.service.applications import Application, CdsInvocation, CdsResult, CdsService
from medai.service.deps import audit, require_roles
from medai.service.errors import read_json_body
from medai.store.accounts import Principal

API_PREFIX = "/api/v1/assistant"
READERS = ("patient", "clinician", "admin")
MAX_TEXT = 2000

router = APIRouter(prefix=API_PREFIX, tags=["assistant"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentBody(_Strict):
    granted: bool
    retention_days: int | None = Field(default=None, ge=1, le=store.MAX_RETENTION_DAYS)
    delete_stored: bool = Field(default=False, description="With granted=false: delete every stored conversation too.")


class StartBody(_Strict):
    consent: bool | None = Field(default=None, description="Agree (true) or not (false) to storing this chat; "
                                                            "omitted: the patient's current decision applies.")
    locale: str | None = Field(default=None, max_length=16, description="For crisis resources, e.g. en-US, en-GB.")
    retention_days: int | None = Field(default=None, ge=1, le=store.MAX_RETENTION_DAYS)


class MessageBody(_Strict):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


async def _body(request: Request, model: type[BaseModel]) -> BaseModel:
    data = await read_json_body(request)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput([Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()[:20]]) from None


def app_chat_service(app: FastAPI) -> ConversationService:
    """The app's conversation service (built on first use with the settings' retention and crisis level)."""
    runtime = app.state.runtime
    if "assistant_chat" not in runtime:
        settings = app.state.settings
        manager = DialogueManager(crisis_level=settings.assistant_crisis_level)
        runtime["assistant_chat"] = ConversationService(app.state.engine, manager, settings.assistant_retention_days)
    return runtime["assistant_chat"]


def chat_service(request: Request) -> ConversationService:
    """The conversation service of the request's app."""
    return app_chat_service(request.app)


def warm_up_chat(app: FastAPI) -> threading.Thread | None:
    """Load the app's crisis screen and sentence encoder in a background thread (call when the app starts)."""
    return app_chat_service(app).warm_up()


def actor_of(principal: Principal) -> Actor:
    """The chat actor for a principal; a patient account must be linked to a patient record."""
    if principal.role == "patient" and not principal.patient_id:
        raise HTTPException(403, "this patient account is not linked to a patient record")
    return Actor(principal.username, principal.role, principal.patient_id)


def readable(request: Request, principal: Principal, conversation: dict, action: str) -> None:
    """Patients read their own conversations, clinicians and admins flagged ones; others get 403 (audited)."""
    own = principal.role == "patient" and principal.patient_id == conversation["patient_id"]
    staff = principal.role in ("clinician", "admin") and conversation["flagged"]
    if not (own or staff):
        audit(request, principal, action, patient_id=conversation["patient_id"], outcome="denied",
              detail={"conversation": conversation["id"]})
        raise HTTPException(403, "patients may only see their own conversations; staff only flagged ones")


def owned(request: Request, principal: Principal, conversation: dict, action: str) -> None:
    """Only the patient whose conversation it is may write to it or delete it (403, audited, otherwise)."""
    if not (principal.role == "patient" and principal.patient_id == conversation["patient_id"]):
        audit(request, principal, action, patient_id=conversation["patient_id"], outcome="denied",
              detail={"conversation": conversation["id"]})
        raise HTTPException(403, "only the patient may use or delete their own conversation")


def load(request: Request, conversation_id: str) -> dict:
    """The conversation's metadata (404 when there is none)."""
    with request.app.state.engine.connect() as connection:
        return store.get_conversation(connection, conversation_id)


# -- consent --------------------------------------------------------------------------------------

@router.get("/consent")
def get_consent(request: Request, principal: Principal = Depends(require_roles("patient"))) -> dict:
    """The consent text and version, and the patient's latest decision."""
    actor = actor_of(principal)
    audit(request, principal, "assistant.read-consent", patient_id=actor.patient_id)
    return chat_service(request).consent(actor.patient_id)


@router.post("/consent")
async def post_consent(request: Request, principal: Principal = Depends(require_roles("patient"))) -> dict:
    """Agree to, or refuse / withdraw, storing conversations (optionally deleting the stored ones)."""
    body = await _body(request, ConsentBody)
    return chat_service(request).set_consent(actor_of(principal), body.granted, body.retention_days, body.delete_stored)


# -- conversations --------------------------------------------------------------------------------

@router.post("/conversations", status_code=201)
async def start(request: Request, principal: Principal = Depends(require_roles("patient"))) -> dict:
    """Start a conversation: the opening message says what the assistant is and is not."""
    body = await _body(request, StartBody)
    return chat_service(request).start(actor_of(principal), body.consent, body.locale, body.retention_days)


@router.get("/conversations")
def list_conversations(request: Request, patient_id: str | None = None, flagged: bool = False,
                       principal: Principal = Depends(require_roles(*READERS))) -> dict:
    """A patient's own conversations; for clinicians and admins, the flagged ones (of one patient if given)."""
    if principal.role == "patient":
        actor = actor_of(principal)
        if patient_id not in (None, actor.patient_id):
            audit(request, principal, "assistant.list-conversations", patient_id=patient_id, outcome="denied")
            raise HTTPException(403, "patients may only see their own conversations")
        patient_id, flagged_only = actor.patient_id, flagged
    else:
        flagged_only = True
    with request.app.state.engine.connect() as connection:
        items = store.list_conversations(connection, patient_id, flagged_only)
    audit(request, principal, "assistant.list-conversations", patient_id=patient_id,
          detail={"count": len(items), "flagged_only": flagged_only})
    return {"conversations": items}


@router.get("/conversations/{conversation_id}")
def history(request: Request, conversation_id: str, principal: Principal = Depends(require_roles(*READERS))) -> dict:
    """A conversation and its stored messages (each with its safety screen result)."""
    conversation = load(request, conversation_id)
    readable(request, principal, conversation, "assistant.read-conversation")
    result = chat_service(request).history(conversation_id)
    audit(request, principal, "assistant.read-conversation", patient_id=conversation["patient_id"],
          detail={"conversation": conversation_id, "messages": len(result["messages"])})
    return result


@router.post("/conversations/{conversation_id}/messages")
async def post_message(request: Request, conversation_id: str,
                       principal: Principal = Depends(require_roles("patient"))) -> dict:
    """Send a message: screened for crisis first, then answered."""
    body = await _body(request, MessageBody)
    conversation = load(request, conversation_id)
    owned(request, principal, conversation, "assistant.message")
    return await run_in_threadpool(chat_service(request).post, actor_of(principal), conversation_id, body.text)


@router.delete("/conversations/{conversation_id}", status_code=204)
def delete(request: Request, conversation_id: str, principal: Principal = Depends(require_roles("patient"))) -> None:
    """Delete one's own conversation and its messages."""
    conversation = load(request, conversation_id)
    owned(request, principal, conversation, "assistant.delete-conversation")
    chat_service(request).delete(conversation_id)
    audit(request, principal, "assistant.delete-conversation", patient_id=conversation["patient_id"],
          detail={"conversation": conversation_id})


@router.post("/purge")
def purge(request: Request, principal: Principal = Depends(require_roles("admin"))) -> dict:
    """Delete every conversation past its retention (admins; also ``medai assistant purge``)."""
    count = chat_service(request).purge()
    audit(request, principal, "assistant.purge", detail={"deleted": count})
    return {"deleted": count}


# -- CDS Hooks: crisis alerts ---------------------------------------------------------------------

def crisis_card(flag: dict, conversation: dict | None, base_url: str) -> dict:
    """The critical ``patient-view`` card of one active crisis Flag, linking to its conversation."""
    categories = ", ".join(LABELS.get(c, c) for c in flag_categories(flag)) or "unspecified"
    raised = (flag.get("period") or {}).get("start", "")
    summary = (flag.get("code") or {}).get("text") or f"Crisis screen alert ({categories})"
    lines = [f"**The assistant's crisis screen flagged this patient** ({categories}) on {raised[:16].replace('T', ' ')} UTC.",
             "The conversation was stopped and crisis resources and a human hand-off were offered.",
             "Please contact the patient."]
    if conversation and conversation.get("handoff_at"):
        lines.insert(2, "**The patient asked for a person from the care team to contact them.**")
    card = {"uuid": flag["id"], "summary": summary[:140], "detail": "\n\n".join(lines), "indicator": "critical",
            "source": {"label": "medai assistant crisis screen"}, "links": [], "suggestions": []}
    if conversation is not None:
        card["links"].append({"label": "Open the flagged conversation in medai", "type": "absolute",
                              "url": f"{base_url}/ui/assistant/alerts/{conversation['id']}"})
    else:  # the patient deleted it, or it passed its retention: the flag still stands
        card["links"].append({"label": "Open the assistant's crisis alerts in medai", "type": "absolute",
                              "url": f"{base_url}/ui/assistant/alerts"})
    return card


def crisis_alerts_cds(invocation: CdsInvocation) -> CdsResult:
    """patient-view: one critical card per conversation with an active crisis Flag, newest first."""
    patient_id = invocation.context["patientId"]
    base = str(invocation.request.base_url).rstrip("/")
    cards = []
    with invocation.engine.connect() as connection:
        for flag in crisis_flags(connection, patient_id):
            conversation = None
            if conversation_of(flag):
                try:
                    conversation = store.get_conversation(connection, conversation_of(flag))
                except NotFound:
                    conversation = None
            cards.append(crisis_card(flag, conversation, base))
    return CdsResult(cards=cards)


def assistant_chat_application() -> Application:
    """The assistant chat's contribution to the service: the JSON API, the patient chat page, the clinicians'
    alert pages and the crisis-alert CDS service."""
    from medai.service.ui.assistant import router as ui_router

    service = CdsService(id="assistant-crisis-alerts", hook="patient-view", title="Assistant crisis alerts",
                         description="Active alerts raised by the patient assistant's crisis screen (suicide or "
                                     "self-harm, harm to others, abuse, medical emergency), each linking to the "
                                     "flagged conversation.",
                         handler=crisis_alerts_cds)
    return Application(name="assistant-chat", routers=[router, ui_router], cds_services=[service])
