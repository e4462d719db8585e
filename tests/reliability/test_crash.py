"""Kill -9 mid write on SQLite and PostgreSQL: nothing acknowledged is lost, nothing is half written,
the audit chain verifies and ingestion resumes (one seeded trial each; benchmarks/crash.py runs many)."""

from __future__ import annotations

import random

import pytest

from tests.reliability import crash

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _check(trial: crash.Trial) -> None:
    assert trial.lost == 0, trial
    assert trial.half_written == 0, trial
    assert trial.audit_ok, trial
    assert trial.resumed_ok, trial


@pytest.mark.parametrize("backend", BACKENDS)
def test_server_killed_during_bulk_ingestion(backend, new_url, tmp_path):
    trial = crash.server_bulk_trial(new_url(backend), tmp_path, random.Random(1), backend, bundles=40)
    assert trial.acknowledged > 0
    _check(trial)


@pytest.mark.parametrize("backend", BACKENDS)
def test_server_killed_during_observation_stream(backend, new_url, tmp_path):
    trial = crash.server_stream_trial(new_url(backend), tmp_path, random.Random(2), backend, count=80)
    assert trial.acknowledged > 0
    _check(trial)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_ingest_killed_mid_run_resumes_without_duplicates(backend, new_url, tmp_path):
    _check(crash.cli_ingest_trial(new_url(backend), tmp_path, random.Random(3), backend, bundles=40))


@pytest.mark.parametrize("replace", [False, True])
def test_models_install_killed_mid_copy_leaves_old_or_new(replace, tmp_path):
    _check(crash.models_install_trial(tmp_path, random.Random(4), replace, megabytes=24))
