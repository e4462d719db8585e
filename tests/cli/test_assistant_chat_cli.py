"""``medai assistant chat`` in the terminal: the opening, a flow, the crisis response (with its audit record)
and the end of input; ``purge`` deletes expired conversations; the other helpers' commands are mounted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from medai.cli.assistant import assistant_app

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh MEDAI_HOME (and database) for the command."""
    from medai.config import get_settings

    monkeypatch.setenv("MEDAI_HOME", str(tmp_path))
    monkeypatch.delenv("MEDAI_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _audit(home) -> list[dict]:
    from medai.store.audit import recent
    from medai.store.db import make_engine

    with make_engine(f"sqlite:///{home / 'medai.db'}").connect() as connection:
        return recent(connection, 50)


def test_chat_runs_a_flow_then_stops_for_a_crisis(home):
    result = runner.invoke(assistant_app, ["chat", "--rules-only", "--no-semantic"],
                           input="breathing exercise\n4\nI want to end my life, I have pills saved up\n"
                                 "yes\n/quit\n")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "not a doctor" in output and "Paced breathing" in output
    assert "Sit or lie comfortably" in output  # the flow's next step after the rating
    assert "Crisis support" in output and "988" in output and "911" in output
    assert "asked your care team" in output and "Goodbye" in output
    crisis = [r for r in _audit(home) if r["action"] == "assistant.crisis"]
    assert len(crisis) == 1 and "pills" not in str(crisis[0])


def test_chat_ends_at_end_of_input_and_without_a_database(home):
    result = runner.invoke(assistant_app, ["chat", "--rules-only", "--no-semantic"], input="hello\nhelp\n")
    assert result.exit_code == 0, result.output
    assert "What would you like to do today" in result.output and "PHQ-9" in result.output
    assert not (home / "medai.db").exists()


def test_bad_crisis_level_is_named():
    result = runner.invoke(assistant_app, ["chat", "--crisis-level", "none"], input="")
    assert result.exit_code != 0 and "crisis-level" in result.output


def test_purge_deletes_expired_conversations(home):
    from medai.assistant.chat import store
    from medai.store.db import open_database
    from medai.config import get_settings

    engine = open_database(get_settings())
    past = datetime.now(UTC) - timedelta(days=40)
    with engine.begin() as connection:
        store.create_conversation(connection, "p1", past, None, None, {"risk": "none"}, default_retention=30)
        store.create_conversation(connection, "p1", datetime.now(UTC), None, None, {"risk": "none"}, default_retention=30)
    result = runner.invoke(assistant_app, ["purge"])
    assert result.exit_code == 0 and "Deleted 1 expired conversation." in result.output
    with engine.connect() as connection:
        assert len(store.list_conversations(connection)) == 1


def test_other_assistant_commands_are_mounted():
    result = runner.invoke(assistant_app, ["--help"])
    assert all(name in result.output for name in ("chat", "purge", "screen", "slots", "book", "reminders", "dispatch"))
