"""Medicines in the chat: today's doses from the patient's active MedicationRequests (FHIR Timing or the sig,
via ``medai.assistant.reminders``) with what was already logged, and logging a dose as taken."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from medai.assistant.chat.answers import choice
from medai.assistant.chat.intents import normalise
from medai.assistant.chat.types import ChatContext, ConversationState, Outcome, QuickReply, Reply
from medai.store.schema import adherence_events

NAME = "medications"
DUE_AHEAD = timedelta(hours=2)


def todays_doses(ctx: ChatContext) -> tuple[list[dict], list[str]]:
    """Today's scheduled doses (UTC day) with their logged status, and the medicines without fixed times."""
    from medai.assistant.reminders.medication import SCHEDULED, medication_schedule
    from medai.assistant.scheduling.resources import patient_resources, utc

    start = datetime.combine(ctx.now.date(), time(0), tzinfo=ctx.now.tzinfo)
    logged = {(r.medication_request_id, utc(r.scheduled_time)): r.status for r in ctx.connection.execute(
        select(adherence_events).where(adherence_events.c.patient_id == ctx.patient_id,
                                       adherence_events.c.scheduled_time >= start,
                                       adherence_events.c.scheduled_time < start + timedelta(days=1)))}
    doses, unscheduled = [], []
    for request in patient_resources(ctx.connection, ctx.patient_id, "MedicationRequest"):
        schedule = medication_schedule(request, start=start, days=1)
        if not schedule.active:
            continue
        if schedule.status != SCHEDULED:
            unscheduled.append(f"{schedule.medication}: {schedule.reason}")
            continue
        for dose in schedule.doses:
            doses.append({"medication_request_id": request["id"], "medication": schedule.medication,
                          "time": dose.time.isoformat(), "dose": dose.dose,
                          "status": logged.get((request["id"], dose.time), "not logged")})
    doses.sort(key=lambda d: (d["time"], d["medication"]))
    ctx.audit("assistant.read-medications", {"doses": len(doses), "unscheduled": len(unscheduled)})
    return doses, unscheduled


def _label(dose: dict) -> str:
    clock = datetime.fromisoformat(dose["time"]).strftime("%H:%M")
    return f"{clock} {dose['medication']}" + (f" ({dose['dose']})" if dose.get("dose") else "")


class Medications:
    """The ``medications_today`` and ``medications_taken`` intents."""

    def start(self, state: ConversationState, intent: str, ctx: ChatContext, text: str = "") -> Outcome:
        """List today's doses, or begin logging a dose (straight away when the message names one due medicine)."""
        from medai.assistant.chat.knowledge import load_messages

        if ctx.patient_id is None or ctx.connection is None:
            return Outcome([Reply(load_messages().not_signed_in.text)])
        doses, unscheduled = todays_doses(ctx)
        if intent == "medications_today":
            return self._today(doses, unscheduled)
        due = [d for d in doses if d["status"] == "not logged" and datetime.fromisoformat(d["time"]) <= ctx.now + DUE_AHEAD]
        if not due:
            return Outcome([Reply("There is no dose due to log right now.", "message",
                                  [QuickReply("Today's medicines", "today's medicines")])])
        named = [d for d in due if any(w in normalise(text).split() for w in normalise(d["medication"]).split()[:1])]
        if len({d["medication_request_id"] for d in named}) == 1:
            return self._log(state, ctx, named[-1])
        state.active = {"handler": NAME, "due": due}
        labels = [_label(d) for d in due]
        return Outcome([Reply("Which dose did you take?\n" + "\n".join(f"{i}. {l}" for i, l in enumerate(labels, 1)),
                              "question", [QuickReply(f"{i}. {l}", str(i)) for i, l in enumerate(labels, 1)])])

    def reply(self, state: ConversationState, text: str, ctx: ChatContext) -> Outcome:
        """The number of the dose taken."""
        due = state.active["due"]
        index = choice(text, len(due))
        if index is None:
            return Outcome([Reply(f"Please reply with a number from 1 to {len(due)}, or 'stop'.", "question")])
        return self._log(state, ctx, due[index])

    def _today(self, doses: list[dict], unscheduled: list[str]) -> Outcome:
        if not doses and not unscheduled:
            return Outcome([Reply("You have no active medicines with a schedule on record.")])
        lines = [f"- {_label(d)}: {d['status']}" for d in doses]
        if unscheduled:
            lines += ["Without fixed times:"] + [f"- {u}" for u in unscheduled]
        return Outcome([Reply("Your medicines today (times in UTC):\n" + "\n".join(lines), "message",
                              [QuickReply("I took my medicine", "I took my medicine")], {"doses": doses})])

    def _log(self, state: ConversationState, ctx: ChatContext, dose: dict) -> Outcome:
        from medai.assistant.reminders.adherence import log_dose

        entry = log_dose(ctx.connection, ctx.patient_id, dose["medication_request_id"], datetime.fromisoformat(dose["time"]),
                         "taken", ctx.actor, ctx.now, note="logged in the assistant")
        ctx.audit("assistant.log-dose", {"medication_request": dose["medication_request_id"], "status": entry["status"]})
        state.active = None
        late = " (logged as late)" if entry["status"] == "late" else ""
        return Outcome([Reply(f"Logged: {_label(dose)} taken{late}.", "result",
                              [QuickReply("Today's medicines", "today's medicines")], {"adherence": entry})])
