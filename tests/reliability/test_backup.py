"""``medai backup`` / ``medai restore``: round trips across SQLite and PostgreSQL, with verification and refusals."""

from __future__ import annotations

import io
import tarfile
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

import typer

from medai.cli.backup import register
from medai.store.backup import BackupError, backup, restore, table_lines
from medai.store.db import make_engine
from medai.store.schema import audit_log, cds_feedback, metadata, resources
from tests.reliability.conftest import fill

ROUND_TRIPS = [("sqlite", "sqlite"), pytest.param("postgresql", "sqlite", marks=pytest.mark.postgres),
               pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres)]


def _contents(url: str) -> dict[str, list[bytes]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        contents = {t.name: list(table_lines(connection, t)) for t in metadata.sorted_tables}
    engine.dispose()
    return contents


@pytest.mark.parametrize(("source_kind", "target_kind"), ROUND_TRIPS)
def test_round_trip_keeps_every_row_and_the_audit_chain(source_kind, target_kind, new_url, tmp_path):
    source, target = new_url(source_kind), new_url(target_kind)
    fill(source)
    archive = tmp_path / "medai-backup.tar.gz"
    manifest = backup(source, archive)
    assert manifest["tables"]["resources"]["rows"] > 0 and manifest["tables"]["audit_log"]["rows"] == 5
    report = restore(archive, target)
    assert report.audit_records == 5
    assert _contents(target) == _contents(source)
    engine = make_engine(target)  # new rows after a restore: the serial id and the audit chain carry on
    with engine.begin() as connection:
        connection.execute(insert(cds_feedback).values(service_id="s", card_uuid="c", outcome="accepted",
                                                       received=datetime.now(timezone.utc), body={}))
        assert connection.execute(select(func.count()).select_from(cds_feedback)).scalar() == 4
    engine.dispose()


def test_restore_refuses_a_non_empty_target_unless_forced(new_url, tmp_path):
    source, target = new_url("sqlite"), new_url("sqlite")
    fill(source)
    fill(target, patients=1)
    archive = tmp_path / "b.tar.gz"
    backup(source, archive)
    with pytest.raises(BackupError, match="not empty"):
        restore(archive, target)
    restore(archive, target, force=True)
    assert _contents(target) == _contents(source)


@pytest.mark.postgres
def test_forced_restore_replaces_a_postgresql_database(new_url, tmp_path):
    source, target = new_url("sqlite"), new_url("postgresql")
    fill(source)
    fill(target, patients=3)
    archive = tmp_path / "b.tar.gz"
    backup(source, archive)
    with pytest.raises(BackupError, match="not empty"):
        restore(archive, target)
    restore(archive, target, force=True)
    assert _contents(target) == _contents(source)


def test_a_damaged_archive_is_refused_and_the_target_stays_empty(new_url, tmp_path):
    source, target = new_url("sqlite"), new_url("sqlite")
    fill(source)
    archive, damaged = tmp_path / "b.tar.gz", tmp_path / "damaged.tar.gz"
    backup(source, archive)
    with tarfile.open(archive, "r:gz") as original, tarfile.open(damaged, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read()
            if member.name == "tables/audit_log.jsonl":
                assert b'\\"i\\": 3' in data
                data = data.replace(b'\\"i\\": 3', b'\\"i\\": 4')
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    with pytest.raises(BackupError, match="audit_log.jsonl.*archive damaged"):
        restore(damaged, target)
    engine = make_engine(target)
    with engine.connect() as connection:
        assert not engine.dialect.has_table(connection, "resources") or \
            connection.execute(select(func.count()).select_from(resources)).scalar() == 0
    engine.dispose()


def test_cli_backup_and_restore(new_url, tmp_path, monkeypatch):
    source, target = new_url("sqlite"), new_url("sqlite")
    fill(source)
    monkeypatch.setenv("MEDAI_DATABASE_URL", source)
    main_app = typer.Typer()
    register(main_app)
    runner = CliRunner()
    archive = tmp_path / "cli.tar.gz"
    result = runner.invoke(main_app, ["backup", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main_app, ["restore", str(archive), "--database-url", target])
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.output and "5 records" in result.output
    result = runner.invoke(main_app, ["restore", str(archive), "--database-url", target])
    assert result.exit_code == 1 and "not empty" in result.output
    engine = make_engine(target)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(audit_log)).scalar() == 5
    engine.dispose()
