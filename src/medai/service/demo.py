"""The demo hospital behind ``medai serve --demo``: generated patients, demo users, live vitals."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.console import Console
from sqlalchemy import Engine

from medai.config import Settings
from medai.store.db import make_engine, migrate

logger = logging.getLogger("medai.demo")
DEMO_USERS = (("clinician", "clinician", "clinician"), ("admin", "admin", "admin"))


@dataclass
class DemoHospital:
    """The demo database, its generated bundles and the demo users' (username, password, role)."""

    engine: Engine
    bundles: list[dict]
    credentials: list[tuple[str, str, str]]


def prepare_demo(settings: Settings, n_patients: int = 24, seed: int = 7, console: Console | None = None) -> DemoHospital:
    """A fresh demo database (``<home>/demo.db``) with generated patients and demo users."""
    from medai.demo import generate_hospital
    from medai.store.accounts import add_user
    from medai.store.ingest import ingest_bundle

    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        (path.parent / (path.name + suffix)).unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    bundles = generate_hospital(n_patients=n_patients, seed=seed)
    credentials = list(DEMO_USERS)
    with engine.begin() as connection:
        for bundle in bundles:
            ingest_bundle(connection, bundle)
        first_patient = next(e["resource"]["id"] for e in bundles[0]["entry"] if e["resource"]["resourceType"] == "Patient")
        for username, password, role in DEMO_USERS:
            add_user(connection, username, role, password=password)
        add_user(connection, "patient", "patient", password="patient", patient_id=first_patient)
    credentials.append(("patient", "patient", "patient"))
    if console:
        console.print(f"Demo hospital: {len(bundles)} inpatients with 48 h of vitals, labs, problems, medications and notes.")
    return DemoHospital(engine, bundles, credentials)


def start_replay(hospital: DemoHospital, app, seconds_per_hour: float = 10.0, hours: int = 72, seed: int = 7) -> threading.Thread:
    """Stream the demo patients' next hours of vitals into the store, one simulated hour every ``seconds_per_hour``.

    Each replayed Observation is stamped with the wall-clock time it is posted, so the
    live view and the scores move as a monitor feed would (time is compressed). Observations
    take the same path as device feeds, so the sepsis monitor scores them as they arrive.
    """
    from medai.demo import vital_stream
    from medai.service.streaming import accept_observation
    from medai.store.accounts import Principal

    bundles = hospital.bundles
    feed = Principal(username="demo-monitor-feed", role="service")
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)

    def run() -> None:
        current_hour = None
        for _, observation in vital_stream(bundles, start, hours, seed, include_labs=True):
            hour = observation["effectiveDateTime"][:13]
            if current_hour is not None and hour != current_hour:
                time.sleep(seconds_per_hour)
            current_hour = hour
            observation = {**observation, "effectiveDateTime": datetime.now(timezone.utc).isoformat()}
            try:
                accept_observation(app, feed, observation, channel="demo")
            except Exception:  # a failed replay write must not kill the demo
                logger.exception("demo replay: observation rejected")

    thread = threading.Thread(target=run, name="medai-demo-replay", daemon=True)
    thread.start()
    return thread
