"""Consistent, verifiable backups of the medai database in a portable archive, and their restore.

The archive is a gzipped tar holding ``manifest.json`` and one ``tables/<table>.jsonl`` per table of
:data:`medai.store.schema.metadata` (the audit chain included): one canonical JSON object per row,
rows in primary-key order, so the same data gives the same bytes on SQLite and PostgreSQL. The
manifest records each table's row count and sha256 and the schema revision.

A backup reads one consistent snapshot: SQLite through the sqlite3 online backup API, PostgreSQL in
one ``REPEATABLE READ`` read-only transaction. A restore loads every table in one transaction (into a
temporary file renamed into place, for SQLite), checks the hashes and row counts of what it loaded
and the audit chain before it commits, and so leaves the target unchanged when anything is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Date, DateTime, Engine, Table, func, insert, make_url, select, text
from sqlalchemy import String as StringType

from medai import __version__
from medai.store.audit import verify as verify_audit
from medai.store.db import make_engine, migrate
from medai.store.schema import metadata

FORMAT = "medai-backup/1"
MANIFEST = "manifest.json"
_BATCH = 1000


class BackupError(Exception):
    """A backup that cannot be written, or an archive or target that a restore refuses (the message says why)."""


@dataclass
class RestoreReport:
    """What a restore loaded and verified."""

    tables: dict[str, int] = field(default_factory=dict)
    audit_records: int = 0


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)


def schema_head() -> str:
    """The Alembic revision this version of medai migrates databases to."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def _revision(connection: Connection) -> str | None:
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - no alembic_version table: not a medai database
        return None


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _ordered(table: Table, dialect: str):
    keys = []
    for column in table.primary_key.columns:
        keys.append(column.collate("C") if dialect == "postgresql" and isinstance(column.type, StringType) else column)
    return select(table).order_by(*keys)


def table_lines(connection: Connection, table: Table) -> Iterator[bytes]:
    """Each row of ``table`` as one canonical JSON line, in primary-key order (byte order for text keys)."""
    result = connection.execute(_ordered(table, connection.dialect.name).execution_options(yield_per=_BATCH))
    for row in result.mappings():
        record = {key: _canonical(value) for key, value in row.items()}
        yield json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _dump(connection: Connection, out: Path) -> dict:
    revision = _revision(connection)
    if revision != schema_head():
        raise BackupError(f"the database is at schema revision {revision!r} but this medai writes {schema_head()!r}; "
                          "open it once with this medai (it migrates on open) before backing it up")
    manifest = {"format": FORMAT, "medai_version": __version__, "schema_revision": revision,
                "dialect": connection.dialect.name, "created": datetime.now(timezone.utc).isoformat(), "tables": {}}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with tarfile.open(partial, "w:gz") as archive, tempfile.TemporaryDirectory() as scratch:
            for table in _tables():
                path = Path(scratch) / f"{table.name}.jsonl"
                digest, rows = hashlib.sha256(), 0
                with path.open("wb") as handle:
                    for line in table_lines(connection, table):
                        handle.write(line)
                        digest.update(line)
                        rows += 1
                manifest["tables"][table.name] = {"rows": rows, "sha256": digest.hexdigest()}
                archive.add(path, arcname=f"tables/{table.name}.jsonl")
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored; use a file URL")
    return Path(parsed.database)


def backup(url: str, out: Path) -> dict:
    """Write a consistent snapshot of the database at ``url`` to the archive ``out``; returns its manifest.

    The archive appears at ``out`` only when complete (it is written beside it and renamed)."""
    source = _sqlite_path(url)
    if source is not None:
        if not source.is_file():
            raise BackupError(f"{source}: no such SQLite database")
        with tempfile.TemporaryDirectory() as scratch:
            snapshot = Path(scratch) / "snapshot.db"
            live, copy = sqlite3.connect(source), sqlite3.connect(snapshot)
            try:
                live.backup(copy)
            finally:
                copy.close()
                live.close()
            engine = make_engine(f"sqlite:///{snapshot}")
            try:
                with engine.connect() as connection:
                    return _dump(connection, out)
            finally:
                engine.dispose()
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET TRANSACTION READ ONLY"))
            return _dump(connection, out)
    finally:
        engine.dispose()


def read_manifest(archive: tarfile.TarFile) -> dict:
    """The archive's manifest, checked for format, schema revision and the table list."""
    try:
        manifest = json.loads(archive.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, ValueError) as error:
        raise BackupError(f"{MANIFEST}: missing or unreadable ({error}); not a medai backup") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST}: format {manifest.get('format') if isinstance(manifest, dict) else None!r} is not {FORMAT!r}")
    if manifest.get("schema_revision") != schema_head():
        raise BackupError(f"{MANIFEST}: the backup has schema revision {manifest.get('schema_revision')!r} but this medai "
                          f"has {schema_head()!r}; restore it with the medai version that wrote it")
    expected = {table.name for table in _tables()}
    listed = set(manifest.get("tables") or {})
    if listed != expected:
        raise BackupError(f"{MANIFEST}: tables {sorted(listed ^ expected)} are missing or unknown")
    return manifest


def _converter(table: Table):
    parsers = {}
    for column in table.columns:
        if isinstance(column.type, DateTime):
            parsers[column.name] = datetime.fromisoformat
        elif isinstance(column.type, Date):
            parsers[column.name] = date.fromisoformat
    names = set(table.columns.keys())

    def convert(record: dict, where: str) -> dict:
        unknown = set(record) - names
        if unknown:
            raise BackupError(f"{where}: unknown columns {sorted(unknown)}")
        return {key: (parsers[key](value) if key in parsers and value is not None else value) for key, value in record.items()}

    return convert


def _load_table(connection: Connection, archive: tarfile.TarFile, table: Table, expected: dict) -> int:
    name = f"tables/{table.name}.jsonl"
    try:
        handle = archive.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise BackupError(f"{name}: missing from the archive")
    convert, digest, rows, batch = _converter(table), hashlib.sha256(), 0, []
    for line in handle:
        digest.update(line)
        rows += 1
        try:
            record = json.loads(line)
        except ValueError as error:
            raise BackupError(f"{name} line {rows}: not JSON ({error})") from None
        batch.append(convert(record, f"{name} line {rows}"))
        if len(batch) >= _BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
    if digest.hexdigest() != expected.get("sha256") or rows != expected.get("rows"):
        raise BackupError(f"{name}: {rows} rows with sha256 {digest.hexdigest()[:12]}… but the manifest records "
                          f"{expected.get('rows')} rows with sha256 {str(expected.get('sha256'))[:12]}… (archive damaged)")
    return rows


def _nonempty_tables(connection: Connection) -> list[str]:
    return [t.name for t in _tables() if connection.execute(select(func.count()).select_from(t)).scalar()]


def _reset_sequences(connection: Connection) -> None:
    """Move PostgreSQL serial sequences past the restored ids, so new rows do not collide with them."""
    if connection.dialect.name != "postgresql":
        return
    for table in _tables():
        column = table.autoincrement_column
        if column is not None:
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"),
                               {"t": table.name, "c": column.name})


def _check_loaded(connection: Connection, manifest: dict) -> RestoreReport:
    report = RestoreReport()
    for table in _tables():
        digest, rows = hashlib.sha256(), 0
        for line in table_lines(connection, table):
            digest.update(line)
            rows += 1
        expected = manifest["tables"][table.name]
        if (rows, digest.hexdigest()) != (expected["rows"], expected["sha256"]):
            raise BackupError(f"table {table.name}: read back {rows} rows that differ from the backup "
                              f"({expected['rows']} rows); the target changed the data (column types or limits?)")
        report.tables[table.name] = rows
    audit = verify_audit(connection)
    if not audit.ok:
        raise BackupError("the restored audit chain does not verify: " + "; ".join(audit.problems[:5]))
    report.audit_records = audit.checked
    return report


def _restore_into(engine: Engine, archive: tarfile.TarFile, manifest: dict, force: bool) -> RestoreReport:
    migrate(engine)
    with engine.begin() as connection:
        busy = _nonempty_tables(connection)
        if busy and not force:
            raise BackupError(f"the target database is not empty (rows in {', '.join(busy)}); "
                              "restore into an empty database, or pass --force to replace its contents")
        if busy:  # PostgreSQL only (SQLite targets are fresh files): TRUNCATE bypasses the audit log's row triggers
            connection.execute(text("TRUNCATE " + ", ".join(t.name for t in _tables())))
        for table in _tables():
            _load_table(connection, archive, table, manifest["tables"][table.name])
        _reset_sequences(connection)
        return _check_loaded(connection, manifest)


def _replace_sqlite(staged: Path, target: Path) -> None:
    """Move a restored SQLite file over ``target``, first folding (and then dropping) any WAL the target has."""
    if target.exists():
        connection = sqlite3.connect(target)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    os.replace(staged, target)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def restore(archive_path: Path, url: str, force: bool = False) -> RestoreReport:
    """Restore the archive into the (empty, unless ``force``) database at ``url``, verifying everything first.

    Checks each table's sha256 and row count against the manifest, re-reads the loaded tables and
    checks them again, and verifies the audit chain, all before committing."""
    try:
        archive = tarfile.open(archive_path, "r:gz")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{archive_path}: not a readable backup archive ({error})") from None
    with archive:
        manifest = read_manifest(archive)
        target = _sqlite_path(url)
        if target is None:
            engine = make_engine(url)
            try:
                return _restore_into(engine, archive, manifest, force)
            finally:
                engine.dispose()
        if target.exists() and not force:
            engine = make_engine(url)
            try:
                migrate(engine)
                with engine.connect() as connection:
                    busy = _nonempty_tables(connection)
            finally:
                engine.dispose()
            if busy:
                raise BackupError(f"the target database is not empty (rows in {', '.join(busy)}); "
                                  "restore into an empty database, or pass --force to replace its contents")
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.restoring")
        engine = make_engine(f"sqlite:///{staged}")
        try:
            report = _restore_into(engine, archive, manifest, force=False)
            engine.dispose()
            _replace_sqlite(staged, target)
            return report
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{staged}{suffix}").unlink(missing_ok=True)
