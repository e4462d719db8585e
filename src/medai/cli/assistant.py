"""``medai assistant``: the patient assistant from the terminal.

* ``chat``: an interactive chat (the same dialogue manager as the web chat: crisis screen first on every
  message, then symptom check, mental-health flows, appointments and medicines). Reads lines from stdin until
  end of input or ``/quit``; nothing typed is stored. A crisis writes its audit record (no message text) to
  the configured database. With ``--patient`` appointments and medicines use that patient's record.
* ``purge``: delete assistant conversations past their retention.
* ``screen`` (crisis screen) and ``slots`` / ``book`` / ``reminders`` / ``dispatch`` come from
  ``medai.cli.assistant_screen`` and ``medai.cli.assistant_schedule``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import Enum

import typer
from rich.console import Console
from rich.panel import Panel

from medai.cli import assistant_schedule, assistant_screen

assistant_app = typer.Typer(help="Virtual health assistant: chat, crisis screen, appointments and reminders.",
                            no_args_is_help=True)
console = Console()
QUIT = {"/quit", "/exit", "/q"}
STYLE = {"crisis": "bold red", "support": "yellow", "result": "green", "opening": "cyan"}


class Sex(str, Enum):
    female = "female"
    male = "male"


def _show(reply) -> None:
    style = STYLE.get(reply.kind, "")
    title = "Crisis support" if reply.kind == "crisis" else None
    console.print(Panel(reply.text, title=title, border_style=style or "blue", expand=False))
    for resource in reply.data.get("resources", []) if reply.kind in ("crisis", "support") else []:
        console.print(f"  [bold]{resource['name']}[/]: {resource['action']} ({resource['contact']})", highlight=False)
    if reply.quick_replies:
        console.print("  [dim]You can reply:[/] " + " · ".join(
            q.label if q.label.lower() == q.value.lower() else f"{q.label} ([bold]{q.value}[/])" for q in reply.quick_replies),
            highlight=False)


@assistant_app.command()
def chat(rules_only: bool = typer.Option(False, "--rules-only", help="Screen with the crisis lexicon only (no model)."),
         semantic: bool = typer.Option(True, "--semantic/--no-semantic",
                                       help="Use sentence embeddings for intents and symptom text (needs the notes extra)."),
         age: float | None = typer.Option(None, min=0, max=120, help="Your age in years (for the symptom checker)."),
         sex: Sex | None = typer.Option(None, help="Your sex (for the symptom checker)."),
         locale: str | None = typer.Option(None, help="Crisis resources for this locale (US, GB, CA ...)."),
         patient: str | None = typer.Option(None, help="A patient id in the database: appointments and medicines."),
         crisis_level: str = typer.Option("moderate", help="Lowest risk that stops the conversation (low .. imminent).")) -> None:
    """Chat with the assistant in the terminal (end with /quit or end of input)."""
    from medai.assistant.chat import ChatContext, ConversationState, DialogueManager
    from medai.assistant.safety import CrisisScreener, audit_crisis

    try:
        manager = DialogueManager(screener=CrisisScreener(model=None) if rules_only else None, semantic=semantic,
                                  crisis_level=crisis_level)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--crisis-level") from None
    engine = _engine() if patient else None
    state = ConversationState(locale=locale)
    _show(manager.opening())
    while True:
        console.print("[bold]you>[/] ", end="")
        line = sys.stdin.readline()
        if not line or line.strip().lower() in QUIT:
            console.print("Goodbye. In an emergency call 911; in a mental-health crisis call or text 988.")
            return
        text = line.strip()
        if not text:
            continue
        if engine is not None:
            with engine.begin() as connection:
                ctx = ChatContext(patient_id=patient, actor="cli", age=age, sex=sex.value if sex else None,
                                  now=datetime.now(UTC), connection=connection)
                turn = manager.handle(state, text, ctx)
        else:
            turn = manager.handle(state, text, ChatContext(actor="cli", age=age, sex=sex.value if sex else None))
        for reply in turn.replies:
            _show(reply)
        if turn.crisis is not None:
            engine = engine or _engine()
            audit_crisis(engine, turn.crisis, "cli", "patient", patient, manager.identity())


@assistant_app.command()
def purge() -> None:
    """Delete every assistant conversation past its retention (audited)."""
    from medai.assistant.chat.store import purge_expired
    from medai.store.audit import AuditEvent, append_in

    engine = _engine()
    with engine.begin() as connection:
        count = purge_expired(connection, datetime.now(UTC))
        append_in(connection, AuditEvent(actor="cli", role="admin", action="assistant.purge", detail={"deleted": count}))
    console.print(f"Deleted {count} expired conversation{'' if count == 1 else 's'}.")


def _engine():
    from medai.config import get_settings
    from medai.store.db import open_database

    return open_database(get_settings())


assistant_screen.register(assistant_app)
assistant_schedule.register(assistant_app)
