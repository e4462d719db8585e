"""``medai assistant screen``: the command registered on a Typer group, JSON and text output."""

import json

import typer
from typer.testing import CliRunner

from medai.cli.assistant_screen import register

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    assistant = typer.Typer()
    register(assistant)
    app.add_typer(assistant, name="assistant")
    return app


def test_screen_json_has_risk_categories_evidence():
    result = runner.invoke(_app(), ["assistant", "screen", "--text", "I have a plan to kill myself tonight",
                                    "--json", "--rules-only"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"risk", "categories", "evidence"} and out["risk"] == "imminent"
    assert out["categories"] == ["suicide_self_harm"] and all(e["rule"] for e in out["evidence"])


def test_screen_text_output_shows_resources_for_the_locale():
    result = runner.invoke(_app(), ["assistant", "screen", "--text", "my boyfriend hits me", "--locale", "GB",
                                    "--rules-only"])
    assert result.exit_code == 0 and "risk: high (abuse)" in result.stdout and "0808 2000 247" in result.stdout


def test_screen_with_the_shipped_model_and_empty_text():
    result = runner.invoke(_app(), ["assistant", "screen", "--text", "I want to die", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["risk"] == "high"
    empty = runner.invoke(_app(), ["assistant", "screen", "--text", "  "])
    assert empty.exit_code == 2 and "--text" in empty.output
