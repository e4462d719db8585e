"""Kill -9 trials: the server mid bulk ingestion and mid Observation stream, the CLI mid ingest, and
``medai models install`` mid copy; then restart, check what survived and resume.

Each trial returns a :class:`Trial`: resources acknowledged before the kill (2xx, or committed for the
CLI), acknowledged ones lost, bundles half written (some of their resources stored, not all; or an
Observation without its index row), whether the audit chain verifies (``medai audit verify``), and
whether resuming (clients re-sending what was not acknowledged, the CLI re-run) completes with every
resource stored exactly once. Used small by ``test_crash.py`` and big by ``benchmarks/crash.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import func, select

from medai.config import Settings, get_settings
from medai.store.accounts import add_user, issue_token
from medai.store.db import make_engine, migrate
from medai.store.ingest import ingest_bundle
from medai.store.schema import observations, resources
from tests.conftest import make_bundle, vital

MEDAI = str(Path(sys.executable).with_name("medai"))


@dataclass
class Trial:
    """The outcome of one kill."""

    scenario: str
    backend: str
    acknowledged: int
    lost: int
    half_written: int
    audit_ok: bool
    resumed_ok: bool
    killed_mid_run: bool = True


def _env(url: str, home: Path) -> dict:
    return {**os.environ, "MEDAI_DATABASE_URL": url, "MEDAI_HOME": str(home), "OMP_NUM_THREADS": "1",
            "MEDAI_MODEL_DIRS": "[]"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def audit_verifies(url: str, home: Path) -> bool:
    """Whether ``medai audit verify`` passes on the database at ``url`` (run in this process)."""
    from typer.testing import CliRunner

    from medai.cli.main import app

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["audit", "verify"], env=_env(url, home))
    finally:
        get_settings.cache_clear()
    return result.exit_code == 0 and "audit log intact" in result.output


def _stored(url: str, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    engine = make_engine(url)
    migrate(engine)  # what a restart does first
    found: set[tuple[str, str]] = set()
    with engine.connect() as connection:
        for start in range(0, len(keys), 400):
            chunk = keys[start:start + 400]
            ids = [i for _, i in chunk]
            found |= {(t, i) for t, i in connection.execute(select(resources.c.resource_type, resources.c.id)
                                                            .where(resources.c.id.in_(ids)))}
    engine.dispose()
    return found


def _counts(url: str) -> tuple[int, int, int]:
    """Stored Observation resources, observation index rows, and resources whose version is above 1."""
    engine = make_engine(url)
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(resources)
                                   .where(resources.c.resource_type == "Observation")).scalar()
        indexed = connection.execute(select(func.count()).select_from(observations)).scalar()
        rewritten = connection.execute(select(func.count()).select_from(resources).where(resources.c.version > 1)).scalar()
    engine.dispose()
    return total, indexed, rewritten


def _total(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(resources)).scalar()
    engine.dispose()
    return total


def _keys(bundle: dict) -> list[tuple[str, str]]:
    return [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"] if e["resource"].get("id")]


def _prepare_database(url: str, patients: int = 1) -> tuple[str, list[str]]:
    """Migrate, add a clinician with a token and ``patients`` patients; returns the token and patient ids."""
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        add_user(connection, "crash-clinician", "clinician", password="pw")
        token = issue_token(connection, "crash-clinician")[1]
        ids = []
        for _ in range(patients):
            bundle = make_bundle(hours=1)
            ingest_bundle(connection, bundle)
            ids.append(bundle["entry"][0]["resource"]["id"])
    engine.dispose()
    return token, ids


def _start_server(url: str, home: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([MEDAI, "serve", "--port", str(port)], env=_env(url, home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"medai serve exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.05)
    _kill(process)
    raise RuntimeError("medai serve did not become ready within 60 s")


def _post_until_killed(base: str, token: str, path: str, payloads: list[dict], rng: random.Random,
                       process: subprocess.Popen, clients: int = 2) -> set[int]:
    """Post ``payloads`` from ``clients`` threads; kill the server at a random moment; return acknowledged indexes."""
    acknowledged: set[int] = set()
    lock, first_ack = threading.Lock(), threading.Event()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    def client(indexes: list[int]) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            for index in indexes:
                try:
                    response = http.post(path, content=json.dumps(payloads[index]))
                except httpx.HTTPError:
                    return  # the server is gone
                if 200 <= response.status_code < 300:
                    with lock:
                        acknowledged.add(index)
                    first_ack.set()

    threads = [threading.Thread(target=client, args=(list(range(k, len(payloads), clients)),)) for k in range(clients)]
    for thread in threads:
        thread.start()
    first_ack.wait(30)
    time.sleep(rng.uniform(0.05, 1.0))
    _kill(process)
    for thread in threads:
        thread.join()
    return acknowledged


def _resume_over_http(url: str, home: Path, token: str, path: str, payloads: list[dict], missing: list[int]) -> bool:
    """Restart the service (in this process) on the same database and re-send what was not acknowledged."""
    from fastapi.testclient import TestClient

    from medai.service.app import create_app

    app = create_app(Settings(home=home, database_url=url, model_dirs=[]))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    with TestClient(app) as http:
        ok = all(200 <= http.post(path, content=json.dumps(payloads[i]), headers=headers).status_code < 300 for i in missing)
    app.state.engine.dispose()
    return ok


def server_bulk_trial(url: str, home: Path, rng: random.Random, backend: str, bundles: int = 120) -> Trial:
    """Kill the server while two clients POST transaction Bundles to ``/fhir``."""
    token, _ = _prepare_database(url, patients=0)
    payloads = [make_bundle(hours=4) for _ in range(bundles)]
    before = _total(url)
    process, base = _start_server(url, home)
    acked = _post_until_killed(base, token, "/fhir", payloads, rng, process)
    keys = [_keys(b) for b in payloads]
    stored = _stored(url, [k for ks in keys for k in ks])
    lost = sum(len([k for k in keys[i] if k not in stored]) for i in acked)
    half = sum(1 for ks in keys if 0 < len([k for k in ks if k in stored]) < len(ks))
    audit_ok = audit_verifies(url, home)
    missing = [i for i in range(bundles) if not all(k in stored for k in keys[i])]
    resent = _resume_over_http(url, home, token, "/fhir", payloads, missing)
    total = _total(url)
    expected = before + sum(len(ks) for ks in keys)
    return Trial("server: bulk Bundle ingestion", backend, sum(len(keys[i]) for i in acked), lost, half, audit_ok,
                 resent and total == expected and audit_verifies(url, home), killed_mid_run=len(acked) < bundles)


def server_stream_trial(url: str, home: Path, rng: random.Random, backend: str, count: int = 600) -> Trial:
    """Kill the server while two clients stream single Observations to ``/fhir/Observation``."""
    token, patients = _prepare_database(url, patients=3)
    now = datetime.now(timezone.utc)
    payloads = [vital(f"Patient/{patients[i % 3]}", "8867-4", 60 + i % 40, "/min", now - timedelta(seconds=count - i),
                      display="Heart rate") for i in range(count)]
    before_total, before_indexed, _ = _counts(url)
    process, base = _start_server(url, home)
    acked = _post_until_killed(base, token, "/fhir/Observation", payloads, rng, process)
    keys = [("Observation", p["id"]) for p in payloads]
    stored = _stored(url, keys)
    total, indexed, _ = _counts(url)
    lost = sum(1 for i in acked if keys[i] not in stored)
    half = abs((total - before_total) - (indexed - before_indexed))  # a resource without its index row, or the reverse
    audit_ok = audit_verifies(url, home)
    missing = [i for i in range(count) if keys[i] not in stored]
    resent = _resume_over_http(url, home, token, "/fhir/Observation", payloads, missing)
    total, indexed, _ = _counts(url)
    resumed = resent and total - before_total == count and indexed - before_indexed == count and audit_verifies(url, home)
    return Trial("server: streamed Observations", backend, len(acked), lost, half, audit_ok, resumed,
                 killed_mid_run=len(acked) < count)


def _anonymous_bundle() -> dict:
    """A bundle whose Condition and MedicationRequest carry neither an id nor a fullUrl (ids assigned on ingest)."""
    bundle = make_bundle(hours=4)
    for entry in bundle["entry"][1:3]:
        entry["resource"].pop("id")
    return bundle


def cli_ingest_trial(url: str, home: Path, rng: random.Random, backend: str, bundles: int = 150) -> Trial:
    """Kill ``medai ingest FOLDER`` mid run, then re-run it."""
    from typer.testing import CliRunner

    from medai.cli.main import app

    _prepare_database(url, patients=0)
    folder = home / f"bundles-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    payloads = [_anonymous_bundle() for _ in range(bundles)]
    for index, bundle in enumerate(payloads):
        (folder / f"bundle-{index:04d}.json").write_text(json.dumps(bundle))
    before = _total(url)
    process = subprocess.Popen([MEDAI, "ingest", str(folder), "--database-url", url], env=_env(url, home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _total(url) == before and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 0.6))
    finished = process.poll() is not None
    _kill(process)
    keys = [_keys(b) for b in payloads]
    stored = _stored(url, [k for ks in keys for k in ks])
    complete = [i for i, ks in enumerate(keys) if all(k in stored for k in ks)]
    half = sum(1 for ks in keys if 0 < len([k for k in ks if k in stored]) < len(ks))
    committed_total = _total(url) - before
    audit_ok = audit_verifies(url, home)
    get_settings.cache_clear()
    first = CliRunner().invoke(app, ["ingest", str(folder), "--database-url", url], env=_env(url, home))
    second = CliRunner().invoke(app, ["ingest", str(folder), "--database-url", url], env=_env(url, home))
    get_settings.cache_clear()
    total, rewritten = _total(url), _counts(url)[2]
    expected = sum(len(b["entry"]) for b in payloads)
    resumed = (first.exit_code == 0 and second.exit_code == 0 and f"{bundles} bundles were already stored" in second.output
               and total - before == expected and rewritten == 0 and audit_verifies(url, home))
    # anonymous resources have no id before ingest: a bundle counts as acknowledged when its known ids are all stored
    lost = max(0, sum(len(payloads[i]["entry"]) for i in complete) - committed_total)
    return Trial("CLI: medai ingest FOLDER", backend, sum(len(payloads[i]["entry"]) for i in complete), lost, half, audit_ok,
                 resumed, killed_mid_run=not finished)


def _make_package(folder: Path, version_tag: str, megabytes: int) -> Path:
    """A valid model package named ``crash-test`` 1.0.0 with a large weights file."""
    from medai.models import parse_card, save_package, shipped_models_dir

    card = parse_card((shipped_models_dir() / "warfarin-dose-1.0.0" / "card.json").read_bytes())
    card = card.model_copy(update={"name": "crash-test", "version": "1.0.0"})
    weights = (version_tag.encode() * (1 << 20))[: megabytes << 20]
    path = folder / f"source-{version_tag}"
    save_package(path, card, {"model.json": json.dumps({"tag": version_tag}).encode(), "weights.safetensors": weights})
    return path


def models_install_trial(home: Path, rng: random.Random, replace: bool, megabytes: int = 96) -> Trial:
    """Kill ``medai models install`` mid copy (into an empty folder, or replacing an installed version with --force)."""
    from medai.models import ModelRegistry, load_package
    from medai.models.install import install_package

    work = home / f"install-{uuid.uuid4().hex[:6]}"
    models_dir = work / "models"
    old, new = _make_package(work, "A", 1), _make_package(work, "B", megabytes)
    if replace:
        install_package(old, models_dir)
    process = subprocess.Popen([MEDAI, "models", "install", str(new), "--dir", str(models_dir), "--force"],
                               env=_env("sqlite:///" + str(work / "unused.db"), work), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(models_dir.glob(".*.partial")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, 0.1))
    finished = process.poll() is not None
    _kill(process)
    expected_old = load_package(old).weights_sha256 if replace else None
    visible = ModelRegistry([models_dir], shipped=False).list()
    states = {s.name: (s.ok, load_package(s.path).weights_sha256 if s.ok else None) for s in visible}
    new_sha = load_package(new).weights_sha256
    consistent = all(ok for ok, _ in states.values()) and states.get("crash-test", (True, expected_old))[1] in (expected_old, new_sha)
    half = 0 if consistent else 1
    acked = 1 if finished else 0
    lost = 1 if finished and states.get("crash-test", (False, None))[1] != new_sha else 0
    result = install_package(new, models_dir, force=True)
    leftovers = [p.name for p in models_dir.glob(".*") if p.is_dir()]
    resumed = result.package.weights_sha256 == new_sha and not leftovers and \
        [s.ok for s in ModelRegistry([models_dir], shipped=False).list()] == [True]
    label = "models install --force over an installed version" if replace else "models install"
    return Trial(label, "files", acked, lost, half, True, resumed, killed_mid_run=not finished)
