"""``medai symptoms``: the symptom checker from the terminal.

* ``assess --text "..." [--age N --sex female|male] [--json]``: one-shot assessment of a free-text description
  (ranked differential with ICD-10-CM codes and probabilities, triage, rationale, next steps).
* ``interview``: the adaptive interview, asking the most informative question each turn.
"""

from __future__ import annotations

import json
import sys
from enum import Enum

import typer
from rich.console import Console
from rich.table import Table

from medai.errors import InvalidInput

symptoms_app = typer.Typer(help="Symptom checker: differential, triage and next steps from a description.",
                           no_args_is_help=True)
err_console = Console(stderr=True)


class Sex(str, Enum):
    female = "female"
    male = "male"


def _print(result: dict) -> None:
    console = Console()
    console.print(f"[bold]Triage: {result['triage']}[/]")
    table = Table("condition", "ICD-10-CM", "probability", "urgency")
    for row in result["differential"]:
        table.add_row(row["condition"], row["icd10cm"], f"{row['probability']:.0%}", row["urgency"])
    console.print(table)
    console.print(result["rationale"])
    for step in result["next_steps"]:
        console.print(f"- {step}")
    console.print(f"[dim]{result['disclaimer']}[/]")


@symptoms_app.command("assess")
def assess_command(text: str = typer.Option(..., "--text", help="What is wrong, in your own words."),
                   age: float | None = typer.Option(None, "--age", min=0, max=120, help="Age in years."),
                   sex: Sex | None = typer.Option(None, "--sex", help="female or male."),
                   as_json: bool = typer.Option(False, "--json", help="Print the assessment as JSON."),
                   semantic: bool = typer.Option(True, "--semantic/--no-semantic",
                                                 help="Use MiniLM similarity for phrases the vocabulary lacks.")) -> None:
    """Assess a free-text description: differential, triage, rationale and next steps."""
    from medai.assistant.symptoms import assess

    try:
        result = assess(text, age, sex.value if sex else None, semantic=semantic).to_dict()
    except InvalidInput as exc:
        err_console.print(f"[red]error[/]: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(result, indent=1) + "\n")
    else:
        _print(result)


@symptoms_app.command("interview")
def interview_command(age: float | None = typer.Option(None, "--age", min=0, max=120),
                      sex: Sex | None = typer.Option(None, "--sex"),
                      max_questions: int = typer.Option(8, help="Ask at most this many questions.")) -> None:
    """Describe your symptoms, then answer y / n / ? to the questions; prints the assessment."""
    from medai.assistant.symptoms import SymptomSession

    session = SymptomSession(max_questions=max_questions).start(typer.prompt("What is wrong?"), age,
                                                               sex.value if sex else None)
    while (question := session.next_question()) is not None:
        reply = typer.prompt(f"{question.text} [y/n/?]", default="?").strip().lower()
        session.answer(question.finding, True if reply.startswith("y") else False if reply.startswith("n") else None)
    _print(session.result().to_dict())
