"""Appointments in the chat: list free slots, book, list mine, reschedule and cancel, over
``medai.assistant.scheduling.booking`` in the caller's transaction. Every read and change is audited."""

from __future__ import annotations

from datetime import timedelta

from medai.assistant.chat.answers import choice, yes_no
from medai.assistant.chat.types import ChatContext, ConversationState, Outcome, QuickReply, Reply

NAME = "appointments"
SHOWN = 6
HORIZON = timedelta(days=21)


def _when(iso: str) -> str:
    from datetime import datetime

    moment = datetime.fromisoformat(iso)
    return moment.strftime("%a %d %b %Y %H:%M UTC")


def _practitioner(connection, practitioner_id: str) -> str:
    from medai.assistant.scheduling.practitioners import practitioner_name
    from medai.assistant.scheduling.resources import load
    from medai.errors import NotFound

    try:
        return practitioner_name(load(connection, "Practitioner", practitioner_id))
    except NotFound:
        return "a clinician"


def _numbered(items: list[str]) -> list[QuickReply]:
    return [QuickReply(f"{i}. {label}", str(i)) for i, label in enumerate(items, 1)]


class Appointments:
    """The appointment intents (``appointments_list``, ``_mine``, ``_reschedule``, ``_cancel``)."""

    def start(self, state: ConversationState, intent: str, ctx: ChatContext, text: str = "") -> Outcome:
        """Begin the intent for the signed-in patient."""
        from medai.assistant.chat.knowledge import load_messages

        if ctx.patient_id is None or ctx.connection is None:
            return Outcome([Reply(load_messages().not_signed_in.text)])
        if intent == "appointments_mine":
            return self._mine(ctx)
        if intent == "appointments_list":
            return self._offer_slots(state, ctx, {"handler": NAME, "mode": "book", "reason": None})
        booked = self._upcoming(ctx)
        if not booked:
            return Outcome([Reply("You have no upcoming appointments to change.", "message",
                                  [QuickReply("Book an appointment", "book an appointment")])])
        mode = "reschedule" if intent == "appointments_reschedule" else "cancel"
        state.active = {"handler": NAME, "mode": f"{mode}-which", "appointments": [a["id"] for a in booked]}
        if len(booked) == 1:
            return self._picked_appointment(state, ctx, booked[0]["id"])
        labels = [self._label(a) for a in booked]
        return Outcome([Reply(f"Which appointment do you want to {mode}?\n" + "\n".join(f"{i}. {l}" for i, l in enumerate(labels, 1)),
                              "question", _numbered(labels))])

    def reply(self, state: ConversationState, text: str, ctx: ChatContext) -> Outcome:
        """A choice of slot or appointment, or a yes/no confirmation."""
        data = state.active
        if ctx.patient_id is None or ctx.connection is None:
            state.active = None
            return self.start(state, "appointments_list", ctx)
        mode = data["mode"]
        if mode.endswith("-which"):
            index = choice(text, len(data["appointments"]))
            if index is None:
                return Outcome([Reply(f"Please reply with a number from 1 to {len(data['appointments'])}, or 'stop'.", "question")])
            return self._picked_appointment(state, ctx, data["appointments"][index])
        if mode == "cancel-confirm":
            answer = yes_no(text)
            if answer is True:
                return self._cancel(state, ctx, data["appointment"])
            state.active = None
            return Outcome([Reply("OK, I have not cancelled it.")])
        index = choice(text, len(data["slots"]))
        if index is None:
            return Outcome([Reply(f"Please reply with a slot number from 1 to {len(data['slots'])}, or 'stop'.", "question")])
        return self._book_or_move(state, ctx, data["slots"][index])

    # -- steps -----------------------------------------------------------------------------------

    def _upcoming(self, ctx: ChatContext) -> list[dict]:
        from medai.assistant.scheduling.booking import patient_appointments

        found = [a for a in patient_appointments(ctx.connection, ctx.patient_id, include_cancelled=False)
                 if a.get("status") == "booked" and a["start"] >= ctx.now.isoformat()]
        ctx.audit("assistant.read-appointments", {"count": len(found)})
        return found

    def _label(self, appointment: dict) -> str:
        return f"{_when(appointment['start'])}: {appointment.get('description', 'Appointment')}"

    def _mine(self, ctx: ChatContext) -> Outcome:
        booked = self._upcoming(ctx)
        if not booked:
            return Outcome([Reply("You have no upcoming appointments.", "message",
                                  [QuickReply("Book an appointment", "book an appointment")])])
        lines = [self._label(a) for a in booked]
        return Outcome([Reply("Your upcoming appointments:\n" + "\n".join(f"- {l}" for l in lines), "message",
                              [QuickReply("Reschedule", "reschedule my appointment"),
                               QuickReply("Cancel one", "cancel my appointment")], {"appointments": booked})])

    def _offer_slots(self, state: ConversationState, ctx: ChatContext, data: dict) -> Outcome:
        from medai.assistant.scheduling.slots import free_slots

        slots = free_slots(ctx.connection, ctx.now + timedelta(hours=1), ctx.now + HORIZON, limit=SHOWN)
        ctx.audit("assistant.read-slots", {"count": len(slots)})
        if not slots:
            state.active = None
            return Outcome([Reply("There are no free appointment slots in the next three weeks. Please call the practice.")])
        labels = [f"{_when(s['start'])} with {_practitioner(ctx.connection, s['practitioner_id'])}" for s in slots]
        state.active = {**data, "slots": [s["id"] for s in slots]}
        lead = "Here are the next free appointments. Which one would you like?"
        return Outcome([Reply(lead + "\n" + "\n".join(f"{i}. {l}" for i, l in enumerate(labels, 1)), "question",
                              _numbered(labels), {"slots": slots})])

    def _picked_appointment(self, state: ConversationState, ctx: ChatContext, appointment_id: str) -> Outcome:
        from medai.assistant.scheduling.resources import load

        appointment = load(ctx.connection, "Appointment", appointment_id)
        if state.active["mode"].startswith("reschedule"):
            return self._offer_slots(state, ctx, {"handler": NAME, "mode": "reschedule", "appointment": appointment_id})
        state.active = {"handler": NAME, "mode": "cancel-confirm", "appointment": appointment_id}
        return Outcome([Reply(f"Cancel your appointment on {self._label(appointment)}?", "question",
                              [QuickReply("Yes, cancel it", "yes"), QuickReply("No, keep it", "no")])])

    def _book_or_move(self, state: ConversationState, ctx: ChatContext, slot_id: str) -> Outcome:
        from medai.assistant.scheduling.booking import SchedulingConflict, book, reschedule

        data = state.active
        try:
            if data["mode"] == "reschedule":
                appointment = reschedule(ctx.connection, data["appointment"], slot_id, ctx.now)
                verb = "moved"
            else:
                appointment = book(ctx.connection, slot_id, ctx.patient_id, ctx.now, reason="booked through the assistant")
                verb = "booked"
        except SchedulingConflict as error:
            return self._offer_slots(state, ctx, {key: data[key] for key in data if key != "slots"}) \
                if error.field == "slot_id" else Outcome([Reply(f"I could not do that: {error}.")])
        ctx.audit(f"assistant.{'reschedule' if verb == 'moved' else 'book'}-appointment", {"appointment": appointment["id"]})
        state.active = None
        return Outcome([Reply(f"Done: your appointment is {verb} to {self._label(appointment)}. You will get a reminder "
                              "before it.", "result", [QuickReply("My appointments", "my appointments")],
                              {"appointment": appointment})])

    def _cancel(self, state: ConversationState, ctx: ChatContext, appointment_id: str) -> Outcome:
        from medai.assistant.scheduling.booking import SchedulingConflict, cancel

        state.active = None
        try:
            appointment = cancel(ctx.connection, appointment_id, ctx.now, reason="cancelled by the patient in the assistant")
        except SchedulingConflict as error:
            return Outcome([Reply(f"I could not cancel it: {error}.")])
        ctx.audit("assistant.cancel-appointment", {"appointment": appointment_id})
        return Outcome([Reply(f"Your appointment on {_when(appointment['start'])} is cancelled.", "result",
                              [QuickReply("Book another", "book an appointment")], {"appointment": appointment})])
