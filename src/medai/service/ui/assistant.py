"""The patient chat page of the web UI (``/ui/assistant``): the consent prompt, the conversation (stored history
when the patient agreed to storing it), quick-reply buttons for interview questions and flows, and a crisis
banner with resources once the conversation is flagged.

Sending goes through the JSON API (``/api/v1/assistant``) with the session cookie, so the page works the
same whether the conversation is stored or not. Patients only; staff get 403.

For the care team (clinicians and admins): ``/ui/assistant/alerts`` lists the conversations the crisis screen
flagged (risk, categories, time, patient, hand-off requested) and ``/ui/assistant/alerts/{id}`` shows one with
the alerts sent about it; both reads are audited, and a conversation that was never flagged is refused (403).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medai.assistant.chat import alerts, store
from medai.errors import NotFound
from medai.service.deps import audit
from medai.service.routers.assistant_chat import Actor, chat_service
from medai.service.ui.routes import STAFF, _error, _forbidden, _page, signed_in
from medai.store.accounts import Principal

router = APIRouter(tags=["ui"])
SECTION = "assistant"
ALERTS_SECTION = "assistant-alerts"
RETENTION_CHOICES = (30, 90, 365)


def _patient(request: Request, principal: Principal) -> Response | Actor:
    if principal.role != "patient" or not principal.patient_id:
        return _forbidden(request, principal, "The assistant chat is for patients signed in to their own record.")
    return Actor(principal.username, principal.role, principal.patient_id)


def _crisis_resources(messages: list[dict]) -> list[dict]:
    """The resources of the latest crisis reply in the stored history."""
    for message in reversed(messages):
        if message["kind"] == "crisis" and (message.get("payload") or {}).get("data", {}).get("resources"):
            return message["payload"]["data"]["resources"]
    return []


@router.get("/ui/assistant", response_class=HTMLResponse)
def assistant_page(request: Request, c: str | None = None, principal: Principal = Depends(signed_in)) -> Response:
    """The chat: asks for the consent decision first, then shows the conversation ``c`` (or a new one)."""
    actor = _patient(request, principal)
    if not isinstance(actor, Actor):
        return actor
    service = chat_service(request)
    consent = service.consent(actor.patient_id)
    if consent["latest"] is None or consent["latest"]["version"] != consent["version"]:
        return _page(request, "assistant.html", principal, section=SECTION, consent=consent, conversation=None,
                     messages=[], resources=[], retention_choices=RETENTION_CHOICES, opening=None)
    conversation, messages, opening = None, [], None
    if c:
        try:
            history = service.history(c)
        except NotFound:
            history = None
        if history and history["conversation"]["patient_id"] == actor.patient_id:
            conversation, messages = history["conversation"], history["messages"]
            audit(request, principal, "assistant.read-conversation", patient_id=actor.patient_id,
                  detail={"conversation": c, "messages": len(messages), "ui": True})
    if conversation is None and not c:
        with request.app.state.engine.connect() as connection:
            kept = [k for k in store.list_conversations(connection, actor.patient_id, limit=1) if k["stored"]]
        if kept:
            return RedirectResponse(f"/ui/assistant?c={kept[0]['id']}", status_code=303)
    if conversation is None:
        started = service.start(actor)
        return RedirectResponse(f"/ui/assistant?c={started['conversation']['id']}", status_code=303)
    if not messages:
        opening = service.manager.opening()
    return _page(request, "assistant.html", principal, section=SECTION, consent=consent, conversation=conversation,
                 messages=messages, resources=_crisis_resources(messages), retention_choices=RETENTION_CHOICES,
                 opening=opening)


@router.post("/ui/assistant/consent")
def assistant_consent(request: Request, granted: str = Form(""), retention_days: int = Form(store.DEFAULT_RETENTION_DAYS),
                      principal: Principal = Depends(signed_in)) -> Response:
    """Record the patient's consent decision and open a new conversation."""
    actor = _patient(request, principal)
    if not isinstance(actor, Actor):
        return actor
    days = retention_days if retention_days in RETENTION_CHOICES else store.DEFAULT_RETENTION_DAYS
    service = chat_service(request)
    service.set_consent(actor, granted == "yes", days)
    started = service.start(actor)
    return RedirectResponse(f"/ui/assistant?c={started['conversation']['id']}", status_code=303)


@router.post("/ui/assistant/new")
def assistant_new(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """Open a new conversation."""
    actor = _patient(request, principal)
    if not isinstance(actor, Actor):
        return actor
    started = chat_service(request).start(actor)
    return RedirectResponse(f"/ui/assistant?c={started['conversation']['id']}", status_code=303)


# -- the care team's crisis alerts -------------------------------------------------------------------

@router.get("/ui/assistant/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """The flagged conversations, latest first (clinicians and admins)."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "Crisis alerts are for the care team.")
    with request.app.state.engine.connect() as connection:
        rows = alerts.flagged_alerts(connection)
    audit(request, principal, "assistant.list-conversations",
          detail={"count": len(rows), "flagged_only": True, "patients": len({r.conversation["patient_id"] for r in rows}),
                  "ui": True})
    return _page(request, "assistant_alerts.html", principal, section=ALERTS_SECTION, rows=rows)


@router.get("/ui/assistant/alerts/{conversation_id}", response_class=HTMLResponse)
def alert_page(request: Request, conversation_id: str, principal: Principal = Depends(signed_in)) -> Response:
    """One flagged conversation: its risk, categories, hand-off, the alerts sent and the stored messages."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "Crisis alerts are for the care team.")
    with request.app.state.engine.connect() as connection:
        try:
            conversation = store.get_conversation(connection, conversation_id)
        except NotFound:
            return _error(request, principal, 404, "Not found", "There is no such conversation (it may have been "
                                                                "deleted by the patient or passed its retention).")
        if not conversation["flagged"]:
            audit(request, principal, "assistant.read-conversation", patient_id=conversation["patient_id"],
                  outcome="denied", detail={"conversation": conversation_id, "ui": True})
            return _forbidden(request, principal, "Staff may only read conversations the crisis screen flagged.")
        alert = alerts.alert_of(connection, conversation)
        sent = alerts.conversation_resources(connection, conversation["patient_id"], conversation_id, "Communication")
        messages = store.conversation_messages(connection, conversation_id)
    audit(request, principal, "assistant.read-conversation", patient_id=conversation["patient_id"],
          detail={"conversation": conversation_id, "messages": len(messages), "ui": True})
    return _page(request, "assistant_alert.html", principal, section=ALERTS_SECTION, alert=alert,
                 communications=sent, messages=messages)
