"""Fixtures for the reliability tests: database URLs (SQLite files, fresh PostgreSQL schemas) and a filled database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, text

from medai.store.accounts import add_user, issue_token
from medai.store.audit import AuditEvent, append
from medai.store.db import make_engine, migrate
from medai.store.ingest import ingest_bundle
from medai.store.schema import cds_feedback
from tests.conftest import POSTGRES_URL, make_bundle


def postgres_schema_url(schema: str) -> str:
    """A URL for the test PostgreSQL server whose connections use ``schema``."""
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def new_url(tmp_path) -> Iterator[Callable[[str], str]]:
    """A factory of empty database URLs: ``new_url("sqlite")`` or ``new_url("postgresql")`` (a fresh schema)."""
    schemas: list[str] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
        if not POSTGRES_URL:
            pytest.skip("MEDAI_TEST_POSTGRES_URL is not set")
        schema = f"r_{uuid.uuid4().hex[:12]}"
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        schemas.append(schema)
        return postgres_schema_url(schema)

    yield make
    if schemas:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            for schema in schemas:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def fill(url: str, patients: int = 2) -> dict[str, str]:
    """Migrate the database at ``url`` and store patients, users with tokens, CDS feedback and audit records.

    Returns each role's token."""
    engine = make_engine(url)
    migrate(engine)
    tokens = {}
    with engine.begin() as connection:
        for index in range(patients):
            ingest_bundle(connection, make_bundle(sick=index % 2 == 0, hours=3))
        for role in ("clinician", "admin"):
            add_user(connection, role, role, password=f"{role}-pw")
            tokens[role] = issue_token(connection, role)[1]
        connection.execute(insert(cds_feedback), [{"service_id": "sepsis", "card_uuid": str(uuid.uuid4()), "outcome": "accepted",
                                                   "received": datetime.now(timezone.utc), "body": {"n": i, "ok": True}}
                                                  for i in range(3)])
    for index in range(5):
        append(engine, AuditEvent("clinician", "clinician", "read:Patient", detail={"i": index}))
    engine.dispose()
    return tokens
