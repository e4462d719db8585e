"""The dialogue manager: every message goes first through the crisis screen; at or above the configured level
the running flow stops, the crisis response (resources, human hand-off) is returned and the turn asks for a
clinician alert; the conversation stays flagged and its risk never goes down. Otherwise the message goes to
the running flow, or is routed by intent (symptom check, mental-health flows, appointments, medicines, help).

No language model is involved: intents and messages are data files, flows are the other assistant packages.
"""

from __future__ import annotations

from medai.assistant.chat import appointments, medications, mental_flows, symptom_check
from medai.assistant.chat.answers import yes_no
from medai.assistant.chat.intents import IntentMatcher
from medai.assistant.chat.knowledge import MessageFile, load_messages
from medai.assistant.chat.safety import (DEFAULT_LEVEL, at_or_above, check_level, conversation_result,
                                         default_screener, raise_state)
from medai.assistant.chat.types import ChatContext, ConversationState, Outcome, QuickReply, Reply, Turn
from medai.assistant.safety import ScreenResult, crisis_response
from medai.assistant.safety.types import risk_rank

HANDOFF_REPLIES = [QuickReply("Yes, contact my care team", "yes"), QuickReply("No, thank you", "no")]


class DialogueManager:
    """Handles one message at a time against a :class:`ConversationState`.

    Parameters: ``screener`` (anything with ``screen(text) -> ScreenResult``; the shipped one by default),
    ``crisis_level`` (lowest risk that stops the flow; ``moderate``), ``semantic`` (embedding fallbacks for
    intents and symptom text), and the data files and flow engines (for tests).
    """

    def __init__(self, screener=None, crisis_level: str = DEFAULT_LEVEL, semantic: bool = True,
                 matcher: IntentMatcher | None = None, messages: MessageFile | None = None,
                 symptoms: symptom_check.SymptomCheck | None = None, flows: mental_flows.MentalFlows | None = None):
        self.screener = screener
        self.crisis_level = check_level(crisis_level)
        self.matcher = matcher or IntentMatcher(semantic=semantic)
        self.messages = messages or load_messages()
        self.symptoms = symptoms or symptom_check.SymptomCheck(semantic=semantic)
        self.flows = flows or mental_flows.MentalFlows()
        self.appointments = appointments.Appointments()
        self.medications = medications.Medications()

    # -- public --------------------------------------------------------------------------------

    def menu(self) -> list[QuickReply]:
        """The quick replies that start each main intent."""
        return [QuickReply(i.quick_reply, i.quick_reply) for i in self.matcher.rules.intents if i.quick_reply]

    def opening(self) -> Reply:
        """The first message: what the assistant is and is not, and where to go in an emergency."""
        message = self.messages.opening
        return Reply(message.text, "opening", self.menu(), {"citations": [c.model_dump() for c in message.citations]})

    def screen(self, text: str) -> ScreenResult:
        """The crisis screen of one message (the shipped screener unless one was given)."""
        return (self.screener or default_screener()).screen(text)

    def identity(self) -> dict:
        """What the audit records about the screen in use."""
        screener = self.screener or default_screener()
        return screener.identity() if hasattr(screener, "identity") else {}

    def warm_up(self) -> None:
        """Load now what the first message would otherwise wait for: the crisis screen (model and sentence
        encoder, by screening a greeting) and the intent examples' embeddings."""
        self.screen("hello")
        self.matcher.prepare()

    def handle(self, state: ConversationState, text: str, ctx: ChatContext | None = None,
               screened: ScreenResult | None = None) -> Turn:
        """Screen ``text`` (or take ``screened``, its screen result), then answer it. ``state`` is updated in place."""
        ctx = ctx or ChatContext()
        result = screened if screened is not None else self.screen(text)
        raise_state(state, result)
        if at_or_above(result.risk, self.crisis_level):
            return self._crisis(state, result, ctx, text)
        if state.handoff_offered and not state.handoff_requested and state.active is None:
            answer = yes_no(text)
            if answer is True:
                state.handoff_requested, state.handoff_offered = True, False
                handoff = self.messages.handoff_requested
                return Turn([Reply(handoff.text, "crisis")], result, state, "handoff", handoff=True)
            if answer is False:
                state.handoff_offered = False
                return Turn([Reply(self.messages.after_crisis.text, "message", self.menu())], result, state, "handoff")
        turn = self._route(state, text, ctx, result)
        if risk_rank(result.risk) > 0 and turn.crisis is None:
            turn.replies.append(self._support(state, result))
        return turn

    # -- safety --------------------------------------------------------------------------------

    def _crisis(self, state: ConversationState, result: ScreenResult, ctx: ChatContext, text: str,
                response=None) -> Turn:
        """Stop the flow, flag the conversation, build the crisis response; alert when the risk rose."""
        state.active = None
        state.flagged = True
        state.handoff_offered = not state.handoff_requested
        combined = conversation_result(state, result)
        response = response or crisis_response(combined, state.locale, ctx.patient_id)
        alert = (risk_rank(state.risk) > risk_rank(state.alerted_risk)
                 or not set(state.categories) <= set(state.alerted_categories))
        if alert:
            state.alerted_risk, state.alerted_categories = state.risk, list(state.categories)
        words = [response.message]
        if state.handoff_offered and response.handoff_offer:
            words.append(response.handoff_offer)
        reply = Reply(" ".join(words), "crisis", list(HANDOFF_REPLIES) if state.handoff_offered else [],
                      {"resources": response.resources, "risk": state.risk, "categories": list(state.categories)})
        return Turn([reply], result, state, "crisis", crisis=response, alert=alert)

    def _support(self, state: ConversationState, result: ScreenResult) -> Reply:
        """Below the crisis level but not none: a gentle note with the resources, the flow goes on."""
        response = crisis_response(result, state.locale)
        return Reply(response.message, "support", [], {"resources": response.resources, "risk": result.risk})

    # -- routing -------------------------------------------------------------------------------

    def _route(self, state: ConversationState, text: str, ctx: ChatContext, result: ScreenResult) -> Turn:
        if state.active is not None:
            interrupt = self.matcher.match(text, only=[i.id for i in self.matcher.rules.intents if i.interrupts])
            if interrupt is None:
                return self._continue(state, text, ctx, result)
            if interrupt.intent.id == "stop":
                state.active = None
                return Turn([Reply(self.messages.stopped.text, "message", self.menu())], result, state, "stop")
            return Turn([Reply(self.messages.help.text + " We are in the middle of something: answer the question, "
                               "or say 'stop'.", "message")], result, state, "help")
        match = self.matcher.match(text)
        intent = match.intent if match else None
        if intent is None:
            outcome = self.symptoms.start(state, text, ctx)
            if state.active is None or state.active.get("text"):
                return self._outcome(state, outcome, ctx, result, "symptom_check", text)
            state.active = None
            return Turn([Reply(self.messages.fallback.text, "message", self.menu())], result, state, None)
        return self._outcome(state, self._start(state, intent, text, ctx), ctx, result, intent.id, text)

    def _start(self, state: ConversationState, intent, text: str, ctx: ChatContext) -> Outcome:
        if intent.flow:
            return self.flows.start(state, intent.flow, ctx)
        if intent.id == "symptom_check":
            described = text.strip().lower() != (intent.quick_reply or "").lower()
            return self.symptoms.start(state, text, ctx, described=described)
        if intent.id.startswith("appointments_"):
            return self.appointments.start(state, intent.id, ctx, text)
        if intent.id.startswith("medications_"):
            return self.medications.start(state, intent.id, ctx, text)
        message = {"help": self.messages.help, "greeting": self.messages.greeting}.get(intent.id, self.messages.stopped)
        return Outcome([Reply(message.text, "message", self.menu())])

    def _continue(self, state: ConversationState, text: str, ctx: ChatContext, result: ScreenResult) -> Turn:
        handler = state.active["handler"]
        if handler == symptom_check.NAME:
            outcome = self.symptoms.reply(state, text, ctx)
        elif handler == mental_flows.NAME:
            outcome = self.flows.reply(state, text, ctx, result)
        elif handler == appointments.NAME:
            outcome = self.appointments.reply(state, text, ctx)
        else:
            outcome = self.medications.reply(state, text, ctx)
        return self._outcome(state, outcome, ctx, result, handler, text)

    def _outcome(self, state: ConversationState, outcome: Outcome, ctx: ChatContext, result: ScreenResult,
                 intent: str | None, text: str) -> Turn:
        if outcome.escalation is not None and at_or_above(outcome.escalation.risk, self.crisis_level):
            raise_state(state, outcome.escalation)
            turn = self._crisis(state, outcome.escalation, ctx, text, outcome.crisis)
            turn.screen = result
            return turn
        return Turn(outcome.replies, result, state, intent)
