"""The symptom-check flow of the chat: drives the symptom checker's adaptive interview
(``medai.assistant.symptoms.SymptomSession``) one question at a time, then gives the differential, the
triage level and the next steps.

The interview is rebuilt from the stored description and answers on every message (it is deterministic),
so the conversation state stays plain JSON."""

from __future__ import annotations

from medai.assistant.chat.answers import yes_no
from medai.assistant.chat.types import ChatContext, ConversationState, Outcome, QuickReply, Reply

NAME = "symptoms"
YES_NO = [QuickReply("Yes", "yes"), QuickReply("No", "no"), QuickReply("Don't know", "don't know")]
ASK_DESCRIPTION = ("Tell me in your own words what is wrong: your main symptoms, for how long, and anything that "
                   "makes them better or worse (for example: \"sore throat and fever for 2 days, no cough\").")
TRIAGE_HEADLINE = {"emergency": "EMERGENCY: call 911 or go to the nearest emergency department now.",
                   "urgent": "Urgent: get seen by a doctor within 24 hours.",
                   "routine": "Routine: book an appointment with your doctor.",
                   "self-care": "Self-care: this can usually be looked after at home."}


class SymptomCheck:
    """Starts and continues the interview. ``semantic`` lets the checker use sentence embeddings for free text."""

    def __init__(self, semantic: bool = True, kb=None):
        self.semantic = semantic
        self.kb = kb

    def _session(self, data: dict, ctx: ChatContext):
        from medai.assistant.symptoms import SymptomSession

        session = SymptomSession(kb=self.kb, semantic=self.semantic)
        if self.kb is None:
            self.kb = session.knowledge
        session.start(data["text"], ctx.age, ctx.sex)
        for finding, present in data.get("answers", []):
            session.answer(finding, present)
        return session

    @staticmethod
    def _has_symptom(session) -> bool:
        kb = session.knowledge
        return any(kb.findings[f].kind in ("symptom", "sign") for f in session.evidence.present)

    def start(self, state: ConversationState, text: str, ctx: ChatContext, described: bool = True) -> Outcome:
        """Begin with ``text`` when it describes symptoms, else ask for a description."""
        state.active = {"handler": NAME, "text": None, "answers": [], "asking": None}
        if described:
            return self._describe(state, text, ctx)
        return Outcome([Reply(ASK_DESCRIPTION, "question")])

    def reply(self, state: ConversationState, text: str, ctx: ChatContext) -> Outcome:
        """The answer to the current question (yes / no / don't know), or more description."""
        data = state.active
        if data["text"] is None:
            return self._describe(state, text, ctx)
        answer = yes_no(text)
        if answer != "?" and data.get("asking"):
            data["answers"].append([data["asking"], answer])
            return self._next(state, self._session(data, ctx))
        # not a yes/no: read it as more description, keeping the answers so far
        extended = dict(data, text=f"{data['text']}. {text}")
        session, before = self._session(extended, ctx), self._session(data, ctx)
        if session.evidence.present | session.evidence.absent > before.evidence.present | before.evidence.absent:
            data["text"] = extended["text"]
            return self._next(state, session)
        question = data.get("asking_text") or ""
        return Outcome([Reply(f"Please answer yes, no or don't know. {question}".strip(), "question", list(YES_NO),
                              {"finding": data.get("asking")})])

    def _describe(self, state: ConversationState, text: str, ctx: ChatContext) -> Outcome:
        session = self._session({"text": text, "answers": []}, ctx)
        if not self._has_symptom(session):
            return Outcome([Reply("I could not recognise a symptom in that. " + ASK_DESCRIPTION, "question")])
        state.active["text"] = text
        ctx.audit("assistant.symptom-interview", {"step": "start"})
        return self._next(state, session)

    def _next(self, state: ConversationState, session) -> Outcome:
        question = session.next_question()
        if question is not None:
            state.active.update(asking=question.finding, asking_text=question.text)
            return Outcome([Reply(question.text, "question", list(YES_NO),
                                  {"finding": question.finding, "information_gain": question.information_gain,
                                   "question_number": len(session.answers) + 1})])
        assessment = session.result()
        state.active = None
        return Outcome([result_reply(assessment)])


def result_reply(assessment) -> Reply:
    """The assessment as a chat message: triage first, the likely causes, next steps, the disclaimer."""
    result = assessment.to_dict()
    lines = [TRIAGE_HEADLINE.get(result["triage"], result["triage"])]
    if result["differential"]:
        lines.append("Possible causes: " + "; ".join(f"{d['condition']} ({d['probability']:.0%})"
                                                      for d in result["differential"][:3]) + ".")
    lines.append(result["rationale"])
    lines += [f"- {step}" for step in result["next_steps"]]
    lines.append(result["disclaimer"])
    quick = [QuickReply("Book an appointment", "book an appointment")] if result["triage"] in ("urgent", "routine") else []
    quick.append(QuickReply("Check another symptom", "check my symptoms"))
    return Reply("\n".join(lines), "result", quick, {"assessment": result})
