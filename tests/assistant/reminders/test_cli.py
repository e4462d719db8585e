"""The ``reminders`` command: a sig in, dose times out."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from medai.cli.assistant_schedule import register


def test_reminders_command_prints_dose_times_for_a_sig():
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["reminders", "--sig", "TID with meals", "--start", "2030-03-04T10:00:00+00:00", "--days", "1", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [d["time"][11:16] for d in payload["doses"]] == ["12:30", "18:30", "08:00"]
    assert payload["sig"]["dosage"]["timing"]["repeat"]["when"] == ["C"]
    missing = CliRunner().invoke(app, ["reminders"])
    assert missing.exit_code == 1
