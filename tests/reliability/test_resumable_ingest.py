"""Resumable ingestion: a bundle stored as sent is skipped; resources without ids get the same ids again."""

from __future__ import annotations

import copy

from sqlalchemy import func, select

from medai.store.audit import verify
from medai.store.ingest import store_bundle
from medai.store.schema import resources
from tests.conftest import make_bundle


def _anonymous() -> dict:
    bundle = make_bundle(hours=1)
    for entry in bundle["entry"][1:3]:
        entry["resource"].pop("id")
    return bundle


def test_storing_a_bundle_twice_writes_it_once(engine):
    bundle = _anonymous()
    first = store_bundle(engine, copy.deepcopy(bundle))
    second = store_bundle(engine, copy.deepcopy(bundle))
    assert not first.skipped and second.skipped and sorted(first.written) == sorted(second.written)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(resources)).scalar() == len(bundle["entry"])
        assert connection.execute(select(func.max(resources.c.version))).scalar() == 1
        report = verify(connection)
    assert report.ok and report.checked == 1  # one audit record, written with the bundle


def test_a_changed_bundle_is_written_again(engine):
    bundle = _anonymous()
    store_bundle(engine, copy.deepcopy(bundle))
    bundle["entry"][0]["resource"]["gender"] = "male"
    assert not store_bundle(engine, bundle).skipped
    with engine.connect() as connection:
        assert connection.execute(select(func.max(resources.c.version))).scalar() == 2
