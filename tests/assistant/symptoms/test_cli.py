"""``medai symptoms assess`` through Typer's CliRunner (the group is mounted on a bare app here)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from medai.cli.symptoms import symptoms_app

app = typer.Typer()
app.add_typer(symptoms_app, name="symptoms")


def test_assess_json():
    result = CliRunner().invoke(app, ["symptoms", "assess", "--text", "burning when I pee and peeing often, no fever",
                                      "--age", "28", "--sex", "female", "--json", "--no-semantic"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["differential"][0]["id"] == "cystitis" and body["differential"][0]["icd10cm"] == "N30.00"
    assert body["triage"] in ("routine", "urgent") and body["rationale"]


def test_assess_table_and_bad_sex():
    runner = CliRunner()
    table = runner.invoke(app, ["symptoms", "assess", "--text", "worst headache of my life", "--no-semantic"])
    assert table.exit_code == 0 and "Triage: emergency" in table.output
    assert runner.invoke(app, ["symptoms", "assess", "--text", "cough", "--sex", "other"]).exit_code != 0
