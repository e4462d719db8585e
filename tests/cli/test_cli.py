"""The medai command line, end to end on a temporary database."""

import json

import pytest
from typer.testing import CliRunner

from medai.cli.main import app
from medai.config import get_settings
from tests.conftest import make_bundle

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDAI_HOME", str(tmp_path))
    monkeypatch.setenv("MEDAI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_ingest_reports_counts_and_rejects_bad_bundles(cli_env):
    good, bad = make_bundle(hours=2), make_bundle(hours=1)
    bad["entry"][3]["resource"]["valueQuantity"]["value"] = -1
    (cli_env / "bundles").mkdir()
    (cli_env / "bundles" / "good.json").write_text(json.dumps(good))
    (cli_env / "bundles" / "bad.json").write_text(json.dumps(bad))
    result = runner.invoke(app, ["ingest", str(cli_env / "bundles")])
    assert result.exit_code == 1
    assert "1 of 2 bundles ingested" in result.output and "Observation" in result.output and "rejected" in result.output


def test_users_tokens_and_audit(cli_env):
    assert runner.invoke(app, ["users", "add", "drsmith", "--role", "clinician", "--password", "pw"]).exit_code == 0
    issued = runner.invoke(app, ["tokens", "issue", "drsmith"])
    assert issued.exit_code == 0 and "mdk_" in issued.output
    token_id = issued.output.split("token id: ")[1].split()[0]
    assert runner.invoke(app, ["tokens", "revoke", token_id]).exit_code == 0
    assert runner.invoke(app, ["tokens", "revoke", token_id]).exit_code != 0
    runner.invoke(app, ["ingest", str(_write_bundle(cli_env))])
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "intact" in verified.output


def _write_bundle(directory):
    path = directory / "one.json"
    path.write_text(json.dumps(make_bundle(hours=1)))
    return path


def test_models_list_and_show(cli_env):
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "news2" in listed.output and "ok" in listed.output
    shown = runner.invoke(app, ["models", "show", "news2", "--html", str(cli_env / "card.html")])
    assert shown.exit_code == 0 and "AUROC" in shown.output
    assert "<img" in (cli_env / "card.html").read_text()


@pytest.mark.data
def test_datasets_list_and_verify(cli_env, data_dir):
    listed = runner.invoke(app, ["datasets", "list", "--root", str(data_dir)])
    assert listed.exit_code == 0 and "physionet2019" in listed.output
    assert runner.invoke(app, ["datasets", "verify", "physionet2019", "--root", str(data_dir)]).exit_code == 0
