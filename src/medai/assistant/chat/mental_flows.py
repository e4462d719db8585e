"""Mental-health flows in the chat: drives ``medai.assistant.mental.engine.FlowSession`` (PHQ-9, GAD-7,
thought record, behavioural activation, grounding, breathing, mood check-in, psychoeducation).

The session is rebuilt from the stored replies on each message. Replies were screened when they arrived,
so the rebuild screens nothing; the live reply is passed with the manager's own screen result, so the
engine's safety checks (the PHQ-9 item 9 escalation) still run and come back as an escalation."""

from __future__ import annotations

from medai.assistant.chat.types import ChatContext, ConversationState, Outcome, QuickReply, Reply
from medai.assistant.safety.screen import SafetyGuard
from medai.assistant.safety.types import ScreenResult

NAME = "flow"


class _Given:
    """A screener that returns a result already known (the manager screens every message first)."""

    def __init__(self, result: ScreenResult | None = None):
        self.result = result or ScreenResult()

    def screen(self, text: str) -> ScreenResult:  # noqa: ARG002 - the text was screened before
        return self.result


def _quick_replies(session) -> list[QuickReply]:
    step = session.step
    if step is None:
        return []
    if step.kind == "choice":
        return [QuickReply(o.label, str(o.value)) for o in step.options]
    if step.kind == "info":
        return [QuickReply("Done", "done")]
    if step.kind == "scale" and step.max - step.min <= 10:
        return [QuickReply(str(v), str(v)) for v in range(step.min, step.max + 1)]
    if step.kind == "text" and step.optional:
        return [QuickReply("Skip", "skip")]
    return []


class MentalFlows:
    """Starts and continues flows by id (``flows`` / ``detector`` are for tests and custom files)."""

    def __init__(self, flows=None, detector=None):
        self.flows = flows
        self.detector = detector

    def _session(self, data: dict, ctx: ChatContext, state: ConversationState, live: ScreenResult | None = None):
        from medai.assistant.mental.engine import FlowSession

        guard = SafetyGuard(_Given())
        session = FlowSession(data["flow_id"], guard=guard, detector=self.detector, locale=state.locale,
                              patient_id=ctx.patient_id, flows=self.flows)
        for text in data.get("replies", []):
            session.prompt()
            session.reply(text)
        if live is not None:
            guard.screener = _Given(live)
        return session

    def _question(self, session, lead: str = "") -> Reply:
        text = session.prompt() or ""
        return Reply(f"{lead}\n{text}".strip(), "question", _quick_replies(session),
                     {"flow_id": session.flow.id, "step": session.step.id if session.step else None,
                      "step_number": session.index + 1, "steps": len(session.flow.steps)})

    def start(self, state: ConversationState, flow_id: str, ctx: ChatContext) -> Outcome:
        """Open flow ``flow_id`` and ask its first step."""
        state.active = {"handler": NAME, "flow_id": flow_id, "replies": []}
        session = self._session(state.active, ctx, state)
        intro = f"{session.flow.title}. {session.flow.description}"
        ctx.audit("assistant.flow", {"flow_id": flow_id, "step": "start"})
        return Outcome([self._question(session, intro)])

    def reply(self, state: ConversationState, text: str, ctx: ChatContext, screened: ScreenResult) -> Outcome:
        """Pass the reply to the flow; the next step, the closing message, or the safety escalation."""
        data = state.active
        session = self._session(data, ctx, state, live=screened)
        session.prompt()
        step = session.reply(text)
        if step.crisis is not None:
            state.active = None
            ctx.audit("assistant.flow", {"flow_id": data["flow_id"], "step": "stopped-for-safety"})
            return Outcome([], escalation=session.guard.state, crisis=step.crisis)
        if not step.accepted:
            return Outcome([self._question(session, f"Sorry, {step.error}.")])
        data["replies"].append(text)
        if step.done:
            state.active = None
            summary = session.summary()
            ctx.audit("assistant.flow", {"flow_id": data["flow_id"], "step": "completed", "score": summary.get("score"),
                                         "band": summary.get("band")})
            return Outcome([Reply(step.prompt or "Done.", "result", [QuickReply("Something else", "help")],
                                  {"flow_id": data["flow_id"], "summary": summary})])
        return Outcome([self._question(session)])
