"""The audit log is append-only and tamper-evident."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from medai.store.audit import AuditEvent, append, verify


def _fill(engine, n=5):
    for i in range(n):
        append(engine, AuditEvent(actor=f"user{i}", role="clinician", action="read:Patient", patient_id=f"p{i}"))


def test_intact_log_verifies(engine):
    _fill(engine)
    with engine.connect() as connection:
        report = verify(connection)
    assert report.ok and report.checked == 5


def test_database_refuses_updates_and_deletes(engine):
    _fill(engine, 2)
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))


def _drop_guards(connection, dialect):
    if dialect == "sqlite":
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        connection.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))


@pytest.mark.parametrize("tamper,expected", [
    ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", "record 3: content does not match"),
    ("DELETE FROM audit_log WHERE seq = 2", "records 2..2 are missing"),
    ("DELETE FROM audit_log WHERE seq = 5", "records removed from the end"),
])
def test_verify_finds_edited_and_deleted_records(engine, tamper, expected):
    """Someone with database access drops the guards and edits the log: verify notices."""
    _fill(engine)
    with engine.begin() as connection:
        _drop_guards(connection, engine.dialect.name)
        connection.execute(text(tamper))
    with engine.connect() as connection:
        report = verify(connection)
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems


def test_concurrent_writers_never_share_a_sequence_number(engine):
    """Transactions appending from many threads at once (no process lock, as from several workers) keep one chain."""
    from concurrent.futures import ThreadPoolExecutor

    from medai.store.audit import append_in

    def write(i: int) -> int:
        with engine.begin() as connection:
            return append_in(connection, AuditEvent(actor=f"worker{i % 4}", role="service", action="stream:Observation"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        sequences = list(pool.map(write, range(40)))
    assert sorted(sequences) == list(range(1, 41))
    with engine.connect() as connection:
        report = verify(connection)
    assert report.ok and report.checked == 40, report.problems
