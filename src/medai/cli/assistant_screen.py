"""``medai assistant screen``: run the crisis screen on one message.

``register(app)`` adds the command to the ``assistant`` Typer group.
"""

from __future__ import annotations

import json
import sys

import typer


def register(app: typer.Typer) -> None:
    """Add the ``screen`` command to ``app``."""
    app.command("screen")(screen_command)


def screen_command(text: str = typer.Option(..., "--text", help="The message to screen."),
                   as_json: bool = typer.Option(False, "--json", help="Print {risk, categories, evidence} as JSON."),
                   locale: str | None = typer.Option(None, "--locale", help="Crisis resources for this locale (US, GB, CA)."),
                   rules_only: bool = typer.Option(False, "--rules-only", help="Skip the learned model (lexicon only).")) -> None:
    """Screen a message for suicide/self-harm, harm to others, abuse and medical emergency."""
    from medai.assistant.safety.response import crisis_response
    from medai.assistant.safety.screen import CrisisScreener, default_screener

    if not text.strip():
        typer.echo("error: --text: the message is empty", err=True)
        raise typer.Exit(2)
    screener = CrisisScreener() if rules_only else default_screener()
    result = screener.screen(text)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=1) + "\n")
        return
    typer.echo(f"risk: {result.risk}" + (f" ({', '.join(result.categories)})" if result.categories else ""))
    for e in result.evidence:
        what = f'"{e.text}"' if e.source == "rule" and e.text else (f"p={e.probability}" if e.probability else "")
        typer.echo(f"  {e.risk:9} {e.rule} {what}{' (negated)' if e.negated else ''}")
    if result.risk != "none":
        response = crisis_response(result, locale)
        typer.echo("\n" + response.message)
        for r in response.resources:
            typer.echo(f"  - {r['name']}: {r['action']}")
