"""Two ``medai serve`` workers sharing one database, with streamed Observations partitioned by patient (Redis Streams):
no update lost or doubled, each patient's state in one worker, and the same risks as one worker."""

from __future__ import annotations

import os

import time
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from medai.service.app import create_app
from medai.store.accounts import add_user, issue_token
from medai.store.db import make_engine, migrate
from medai.store.ingest import ingest_bundle
from medai.store.schema import predictions
from tests.conftest import POSTGRES_URL, _postgres_engine, make_bundle, vital

REDIS_URL = os.environ.get("MEDAI_TEST_REDIS_URL")
VITALS = [("8867-4", "/min", 72, 128), ("9279-1", "/min", 14, 27), ("8480-6", "mm[Hg]", 124, 86),
          ("8310-5", "Cel", 36.8, 39.5), ("59408-5", "%", 98, 89)]


@pytest.fixture(scope="module")
def redis_url():
    """The Redis server named by $MEDAI_TEST_REDIS_URL (CI sets it; a set URL that does not answer fails)."""
    if not REDIS_URL:
        pytest.skip("MEDAI_TEST_REDIS_URL is not set")
    import redis

    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    return REDIS_URL


def _stream(patients: list[str], hours: int, start: datetime) -> list[dict]:
    """Hourly vitals, each at its own minute, getting worse for every other patient."""
    out = []
    for hour in range(hours):
        for index, patient in enumerate(patients):
            sick = index % 2 == 0
            for minute, (loinc, unit, well, ill) in enumerate(VITALS):
                value = well + (ill - well) * min(1.0, hour / 3) if sick else well
                out.append(vital(f"Patient/{patient}", loinc, round(value, 1), unit,
                                 start + timedelta(hours=hour, minutes=7 * minute + index)))
    return out


def _service(engine, settings, patients: list[dict]) -> str:
    with engine.begin() as connection:
        for bundle in patients:
            ingest_bundle(connection, bundle)
        add_user(connection, "feed", "service", password="feed-pw")
        return issue_token(connection, "feed")[1]


def _risks(engine) -> dict[str, list[float]]:
    with engine.connect() as connection:
        rows = connection.execute(select(predictions.c.patient_id, predictions.c.value)
                                  .where(predictions.c.model_id == "sepsis-ews").order_by(predictions.c.created)).all()
    found: dict[str, list[float]] = {}
    for patient, value in rows:
        found.setdefault(patient, []).append(value)
    return found


@pytest.fixture
def shared_engine():
    """A fresh PostgreSQL schema: the database that scaled-out workers share (SQLite takes one writer at a time)."""
    if not POSTGRES_URL:
        pytest.skip("MEDAI_TEST_POSTGRES_URL is not set")
    engine, admin, schema = _postgres_engine()
    migrate(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.mark.postgres
def test_two_workers_share_the_database_and_split_patients(redis_url, shared_engine, settings, tmp_path):
    from medai.service.partitioning import install_partitioning

    engine = shared_engine

    bundles = [make_bundle(hours=0) for _ in range(6)]
    patients = [b["entry"][0]["resource"]["id"] for b in bundles]
    observations = _stream(patients, hours=4, start=datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=5))

    token = _service(engine, settings, bundles)
    workers = [create_app(settings, engine) for _ in range(2)]
    prefix = f"medai-test:{uuid.uuid4().hex[:8]}"
    buses = [install_partitioning(app, redis_url, worker=i, workers=2, partitions=8, prefix=prefix)
             for i, app in enumerate(workers)]
    clients = [TestClient(app) for app in workers]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    try:
        for n, observation in enumerate(observations):  # the load balancer: round robin
            response = clients[n % 2].post("/fhir/Observation", json=observation, headers=headers)
            assert response.status_code == 201, response.text
        deadline = time.monotonic() + 60
        while sum(bus.processed for bus in buses) < len(observations) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sum(bus.backlog() for bus in buses) == 0
    finally:
        for bus in buses:
            bus.stop()
        import redis

        redis.Redis.from_url(redis_url).delete(*[buses[0].stream(p) for p in range(buses[0].partitions)])

    states = [set(app.state.runtime["sepsis_monitor"]._patients) if "sepsis_monitor" in app.state.runtime else set()
              for app in workers]
    assert states[0].isdisjoint(states[1]) and states[0] | states[1] == set(patients)  # each patient lives in one worker
    assert all(states)  # and both workers hold some
    scaled = _risks(engine)
    assert {p: len(v) for p, v in scaled.items()} == {p: len(VITALS) * 4 for p in patients}  # none lost, none doubled

    single_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'single.db'}"})
    single_engine = make_engine(single_settings.database_url)
    migrate(single_engine)
    single_token = _service(single_engine, single_settings, bundles)
    single = TestClient(create_app(single_settings, single_engine))
    for observation in observations:
        response = single.post("/fhir/Observation", json=observation,
                               headers={**headers, "Authorization": f"Bearer {single_token}"})
        assert response.status_code == 201
    alone = _risks(single_engine)
    for patient in patients:
        np.testing.assert_allclose(scaled[patient], alone[patient], rtol=1e-9)
    sick, well = patients[0::2], patients[1::2]
    assert min(alone[p][-1] for p in sick) > max(alone[p][-1] for p in well)  # the deteriorating patients rise
