"""The append-only, tamper-evident audit log.

Each record stores the SHA-256 of its own content chained to the hash of the record
before it; ``verify`` recomputes the chain and reports any edited, inserted or
deleted record. The database also refuses UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Connection, Engine, insert, select, update

from medai.store.schema import audit_head, audit_log

GENESIS = "0" * 64
_append_lock = threading.Lock()


@dataclass
class AuditEvent:
    """Who did what, to which patient, with which model, and how it ended."""

    actor: str
    role: str
    action: str
    outcome: str = "success"
    patient_id: str | None = None
    model_id: str | None = None
    model_version: str | None = None
    weights_sha256: str | None = None
    detail: dict = field(default_factory=dict)


def _digest(row: dict) -> str:
    content = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items() if k != "hash"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _normalise_time(value: datetime) -> datetime:
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=(value.microsecond // 1000) * 1000)


def append(engine: Engine, event: AuditEvent) -> int:
    """Append one event in its own transaction; returns its sequence number."""
    with _append_lock, engine.begin() as connection:
        return append_in(connection, event)


def append_in(connection: Connection, event: AuditEvent) -> int:
    """Append one event inside the caller's transaction, so it commits or rolls back with the
    change it records. The head row is claimed with a write before it is read (SQLite then holds the
    database's write lock, PostgreSQL the row lock) until that transaction ends, so two writers can
    never take the same sequence number, from two threads or two processes."""
    _claim_head(connection)
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()).one()
    seq, prev_hash = head.seq + 1, head.hash
    row = {"seq": seq, "time": _normalise_time(datetime.now(timezone.utc)), "actor": event.actor, "role": event.role,
           "action": event.action, "patient_id": event.patient_id, "model_id": event.model_id,
           "model_version": event.model_version, "weights_sha256": event.weights_sha256, "outcome": event.outcome,
           "detail": json.dumps(event.detail, sort_keys=True, default=str), "prev_hash": prev_hash}
    row["hash"] = _digest(row)
    connection.execute(insert(audit_log), row)
    connection.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=row["hash"]))
    return seq


def _claim_head(connection: Connection) -> None:
    """Create the empty head (sequence 0, the genesis hash) if there is none, and take the write lock on it.

    The Python SQLite driver opens a transaction only at the first write, so a plain read of the head
    could see a state another writer is about to change; writing first closes that gap."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:  # pragma: no cover - medai supports SQLite and PostgreSQL
        raise RuntimeError(f"the audit log supports SQLite and PostgreSQL, not {dialect}")
    connection.execute(upsert(audit_head).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"]))
    connection.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq))


@dataclass
class VerifyReport:
    """The outcome of ``verify``: how many records were checked and what is wrong."""

    checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(connection: Connection) -> VerifyReport:
    """Recompute the hash chain and compare it with the stored hashes and the head."""
    problems: list[str] = []
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for row in connection.execute(select(audit_log).order_by(audit_log.c.seq)).mappings():
        record = dict(row)
        record["time"] = _normalise_time(record["time"])
        if record["seq"] != expected_seq:
            problems.append(f"records {expected_seq}..{record['seq'] - 1} are missing (deleted)")
        if record["prev_hash"] != expected_prev:
            problems.append(f"record {record['seq']}: chain broken (previous record deleted or altered)")
        if _digest(record) != record["hash"]:
            problems.append(f"record {record['seq']}: content does not match its hash (edited)")
        expected_prev, expected_seq, checked = record["hash"], record["seq"] + 1, checked + 1
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    if head and (head.seq != expected_seq - 1 or head.hash != expected_prev):
        problems.append(f"the log ends at record {expected_seq - 1} but the head says {head.seq} (records removed from the end)")
    return VerifyReport(checked, problems)


def recent(connection: Connection, limit: int = 200, patient_id: str | None = None) -> list[dict]:
    """The most recent audit records, newest first."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if patient_id:
        query = query.where(audit_log.c.patient_id == patient_id)
    return [dict(row) for row in connection.execute(query).mappings()]
