"""``medai notes followup`` and ``medai notes assertion``: follow-up items and ConText assertions.

``followup`` writes one JSON object per input file, one per line::

    {"path": "...", "needs_followup": true,
     "items": [{"start", "end", "text", "what", "when", "kind", "trigger": {"start", "end", "pattern"}}]}

``text == file_text[start:end]`` (character offsets of the UTF-8-decoded file); ``when`` is
normalised (``{"value": 3, "unit": "month"}``, ``{"low": 6, "high": 8, "unit": "week"}``,
``{"event": "discharge", "relation": "before"}``, ``{"condition": "as needed"}``) or ``null``.
A file that cannot be read is named on stderr; the others are still processed and the exit code
is 1. ``assertion`` prints the assertion of one target phrase in one sentence, with the trigger
spans that caused it. ``register(app)`` adds both commands to the ``notes`` Typer group.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from medai.cli.notes_extract import _files, _read


def followup(inputs: list[Path] = typer.Argument(..., exists=True, help="Note or report text files, or folders of *.txt files."),
             out: Path = typer.Option(..., "--out", help="Output JSON Lines file (one object per input file)."),
             ) -> None:
    """Find follow-up recommendations, appointments, pending results and return precautions, with what and when."""
    from medai.notes.followup import detect

    failed = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for path in _files(inputs):
            text = _read(path)
            if text is None:
                failed += 1
                continue
            items = [item.as_dict() for item in detect(text)]
            handle.write(json.dumps({"path": str(path), "needs_followup": bool(items), "items": items},
                                    ensure_ascii=False) + "\n")
    if failed:
        raise typer.Exit(1)


def assertion(sentence: str = typer.Option(..., "--sentence", help="The sentence holding the target."),
              target: str = typer.Option(..., "--target", help="The condition phrase to assert, as written in the sentence.")
              ) -> None:
    """Print the ConText assertion (negated, uncertain, historical, family, hypothetical) of TARGET in SENTENCE."""
    from medai.notes.context import assert_in_sentence, find_target

    span = find_target(sentence, target)
    if span is None:
        typer.echo(f"error: --target {target!r} does not occur in --sentence", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(assert_in_sentence(sentence, *span).as_dict(), indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add ``followup`` and ``assertion`` to the given (``notes``) Typer group."""
    app.command("followup")(followup)
    app.command("assertion")(assertion)
