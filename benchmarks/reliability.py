"""Reliability and security benchmark: fuzzing every parser and the OpenAPI, and the authorisation matrix.

    OMP_NUM_THREADS=1 python benchmarks/reliability.py [--examples 300] [--api-examples 20] [--soak-minutes 30]

Rows:
- one per parser fuzz target (``tests/fuzz/targets.py``): inputs run and inputs that crashed (an exception other
  than the parser's documented error), plus the replayed regression corpus (``tests/fuzz/corpus``);
- the OpenAPI fuzz (schemathesis, every operation, each role): requests sent and failures (5xx or a response
  that breaks the documented schema);
- the authorisation matrix generated from the routes (every route x every role x no / expired / revoked /
  forged token, plus cross-patient requests): requests and violations;
- the de-identification cost of one long dense note (seconds), a denial-of-service probe;
- load (``benchmarks/load.py``): CDS Hooks patient-view and streamed Observations at each number of clients,
  2xx/s beside a bare FastAPI endpoint in the same run, p99 and the share shed (failures: 5xx other than
  shedding, and transport errors), and the memory soak;
- crash-kill trials (``benchmarks/crash.py``), when that script is present.
The same checks run small in the default test suite; here they run big. Writes benchmarks/results/reliability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fuzz targets and matrix live beside the tests that use them

from hypothesis import HealthCheck, given, settings  # noqa: E402

from load import load_rows, run_benchmark  # noqa: E402  (benchmarks/load.py; this folder is sys.path[0])
from tests.fuzz.targets import Target, targets  # noqa: E402

try:
    from crash import crash_rows  # noqa: E402  (benchmarks/crash.py)
except ModuleNotFoundError as error:  # the crash-kill benchmark is not there yet
    if error.name != "crash":
        raise
    crash_rows = None


def fuzz_target(target: Target, examples: int) -> dict:
    """Run ``examples`` generated inputs; count crashes (distinct exception type and place)."""
    ran, crashes = 0, {}

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(example=target.strategy)
    def run(example):
        nonlocal ran
        ran += 1
        try:
            target.run(example)
        except target.expected:
            pass
        except Exception as error:  # a crash: keep the first of each kind
            frame = error.__traceback__
            while frame.tb_next:
                frame = frame.tb_next
            where = f"{Path(frame.tb_frame.f_code.co_filename).name}:{frame.tb_lineno}"
            crashes.setdefault(f"{type(error).__name__} at {where}", repr(example)[:200])

    started = time.perf_counter()
    run()
    return {"target": target.name, "cases": ran, "failures": len(crashes), "crashes": crashes,
            "seconds": round(time.perf_counter() - started, 1)}


def replay_corpus() -> dict:
    """Replay every stored crasher through its target."""
    from tests.fuzz import test_parsers_fuzz as suite

    by_name = {t.name: t for t in targets()}
    failures, cases = [], 0
    for path in sorted(suite.CORPUS.glob("*__*")):
        target = by_name[path.name.split("__")[0]]
        data = path.read_bytes()
        example = (data.decode("utf-8", "replace") if target.name in suite.TEXT_TARGETS
                   else json.loads(data) if target.name in suite.JSON_TARGETS else data)
        cases += 1
        try:
            suite.check(target, example)
        except Exception as error:  # noqa: BLE001 - any escape is a regression
            failures.append(f"{path.name}: {type(error).__name__}: {error}"[:200])
    return {"target": "regression corpus", "cases": cases, "failures": len(failures), "crashes": failures}


def _service():
    """The app on a temporary database with one user per role and two patients (as in the tests)."""
    from fastapi.testclient import TestClient

    from medai.config import Settings
    from medai.service.app import create_app
    from medai.store.accounts import add_user, issue_token
    from medai.store.ingest import ingest_bundle
    from tests.conftest import make_bundle
    from tests.service.conftest import Service

    home = Path(tempfile.mkdtemp(prefix="medai-reliability-"))
    app = create_app(Settings(home=home, database_url=f"sqlite:///{home / 'service.db'}", base_url="http://testserver",
                              max_body_bytes=2_000_000))
    sick, well = make_bundle(sick=True), make_bundle()
    tokens = {}
    with app.state.engine.begin() as connection:
        ingest_bundle(connection, sick)
        ingest_bundle(connection, well)
        for role in ("clinician", "admin", "service"):
            add_user(connection, role, role, password=f"{role}-pw")
            tokens[role] = issue_token(connection, role)[1]
        add_user(connection, "patient", "patient", password="patient-pw", patient_id=well["entry"][0]["resource"]["id"])
        tokens["patient"] = issue_token(connection, "patient")[1]
    return Service(TestClient(app), tokens, sick["entry"][0]["resource"]["id"], well["entry"][0]["resource"]["id"])


def authz_matrix() -> dict:
    """The generated authorisation matrix on a fresh service."""
    import secrets
    from datetime import timedelta

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from medai.store.accounts import add_cds_client, issue_token, revoke_token
    from tests.security.conftest import EHR, sign_jwt
    from tests.security.matrix import run_matrix

    service = _service()
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with service.client.app.state.engine.begin() as connection:
        add_cds_client(connection, EHR, pem)
        _, expired = issue_token(connection, "clinician", ttl=timedelta(seconds=-1))
        token_id, revoked = issue_token(connection, "admin")
        revoke_token(connection, token_id)
    now = int(time.time())
    bad = {"expired": expired, "revoked": revoked, "forged": "mdk_" + secrets.token_urlsafe(32),
           "forged-jwt": sign_jwt(ec.generate_private_key(ec.SECP384R1()), "http://testserver/cds-services"),
           "expired-jwt": sign_jwt(key, "http://testserver/cds-services", exp=now - 60, iat=now - 400)}
    started = time.perf_counter()
    result = run_matrix(service, bad)
    return {"target": "authorisation matrix", "routes": result.routes, "cases": result.requests,
            "failures": len(result.findings), "crashes": [str(f) for f in result.findings[:50]],
            "seconds": round(time.perf_counter() - started, 1)}


def api_fuzz(examples: int) -> dict:
    """Schemathesis over the OpenAPI as every role."""
    from tests.fuzz.api import fuzz_openapi

    service = _service()
    started = time.perf_counter()
    result = fuzz_openapi(service.client.app, service.tokens, max_examples=examples)
    return {"target": f"OpenAPI ({result.operations} operations)", "cases": result.cases, "failures": len(result.failures),
            "crashes": result.failures[:50], "seconds": round(time.perf_counter() - started, 1)}


def deid_cost(characters: int) -> dict:
    """Seconds to de-identify one dense note of ``characters`` (dates-like tokens), after a warm-up."""
    from medai.service.routers.notes import deidentify

    deidentify("Seen by Dr Smith on 01/02/2020.", "mask", None, "")
    text = ("1/1/1 " * (characters // 6 + 1))[:characters]
    started = time.perf_counter()
    deidentify(text, "mask", None, "")
    return {"target": f"deid of a {characters}-character dense note", "cases": 1, "failures": 0, "crashes": [],
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=300, help="generated inputs per parser target")
    parser.add_argument("--api-examples", type=int, default=20, help="generated requests per OpenAPI operation")
    parser.add_argument("--deid-characters", type=int, default=12_000)
    parser.add_argument("--load-clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--load-seconds", type=float, default=15.0, help="measured seconds per load cell")
    parser.add_argument("--soak-minutes", type=float, default=30.0, help="minutes of the memory soak (0: none)")
    parser.add_argument("--max-in-flight", type=int, default=8, help="the medai server's load-shedding limit")
    parser.add_argument("--no-load", action="store_true", help="skip the load rows")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "reliability.json")
    args = parser.parse_args()

    rows = [fuzz_target(target, args.examples) for target in targets()]
    rows.append(replay_corpus())
    rows.append(api_fuzz(args.api_examples))
    rows.append(authz_matrix())
    rows.append(deid_cost(args.deid_characters))
    if crash_rows is not None:
        rows.extend(crash_rows())
    load = None
    if not args.no_load:
        load = run_benchmark(args.load_clients, args.load_seconds, max_in_flight=args.max_in_flight,
                             soak_minutes=args.soak_minutes)
        rows.extend(load_rows(load))
    not_measured = ([] if crash_rows else ["crash-kill trials"]) + (["load (throughput, latency, soak)"] if args.no_load else [])

    width = max(44, *(len(row["target"]) for row in rows))
    print(f"{'target':<{width}} {'cases':>7} {'failures':>8} {'seconds':>8}")
    for row in rows:
        print(f"{row['target']:<{width}} {row['cases']:>7} {row['failures']:>8} {row.get('seconds', ''):>8}")
        for crash in list(row["crashes"])[:5]:
            print(f"    {crash}")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                                    "examples_per_target": args.examples, "api_examples_per_operation": args.api_examples,
                                    "not_measured": not_measured, "load": load, "rows": rows}, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
