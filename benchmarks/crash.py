"""Crash consistency benchmark: kill -9 mid write, restart, count what was lost or half written.

    OMP_NUM_THREADS=1 MEDAI_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \
        python benchmarks/crash.py [--trials 3] [--seed 0]

Scenarios (each on SQLite and, when $MEDAI_TEST_POSTGRES_URL is set, on PostgreSQL): the server killed
while two clients POST transaction Bundles, the server killed while two clients stream Observations, the
CLI ``medai ingest FOLDER`` killed mid run; and ``medai models install`` killed mid copy (into an empty
folder, and replacing an installed version). Kill times are random from a seeded generator. One row per
scenario: trials, resources acknowledged before the kill, acknowledged resources lost, bundles half
written, trials whose audit chain verified, trials that resumed to the full data set with no duplicates.
Writes benchmarks/results/crash.json; ``benchmarks/reliability.py`` adds these rows to its table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the trials live beside the tests that run them small

from sqlalchemy import text  # noqa: E402

from medai.store.db import make_engine  # noqa: E402
from tests.reliability import crash  # noqa: E402

POSTGRES_URL = os.environ.get("MEDAI_TEST_POSTGRES_URL")


def _database(kind: str, folder: Path) -> tuple[str, str | None]:
    """A fresh database URL and, for PostgreSQL, the schema to drop afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.db'}", None
    schema = f"crash_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", schema


def _drop(schema: str | None) -> None:
    if schema:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _row(trials: list[crash.Trial], seconds: float) -> dict:
    first = trials[0]
    failures = [t for t in trials if t.lost or t.half_written or not t.audit_ok or not t.resumed_ok]
    return {"target": f"crash-kill: {first.scenario} ({first.backend})", "cases": len(trials), "failures": len(failures),
            "crashes": [str(t) for t in failures], "seconds": round(seconds, 1),
            "trials": len(trials), "killed_mid_run": sum(t.killed_mid_run for t in trials),
            "acknowledged": sum(t.acknowledged for t in trials), "lost": sum(t.lost for t in trials),
            "half_written": sum(t.half_written for t in trials), "audit_chain_ok": sum(t.audit_ok for t in trials),
            "resumed_ok": sum(t.resumed_ok for t in trials)}


def crash_rows(trials: int = 3, seed: int = 0) -> list[dict]:
    """Run ``trials`` seeded kill trials per scenario and backend; one summary row per scenario."""
    rng = random.Random(seed)
    backends = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in (crash.server_bulk_trial, crash.server_stream_trial, crash.cli_ingest_trial):
            for backend in backends:
                started, results = time.perf_counter(), []
                for _ in range(trials):
                    home = Path(scratch) / uuid.uuid4().hex[:8]
                    home.mkdir()
                    url, schema = _database(backend, home)
                    try:
                        results.append(run(url, home, rng, backend))
                    finally:
                        _drop(schema)
                rows.append(_row(results, time.perf_counter() - started))
        for replace in (False, True):
            started = time.perf_counter()
            results = [crash.models_install_trial(Path(scratch), rng, replace) for _ in range(trials)]
            rows.append(_row(results, time.perf_counter() - started))
    return rows


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=3, help="kill trials per scenario and backend")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random kill times")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "crash.json")
    args = parser.parse_args()
    rows = crash_rows(args.trials, args.seed)
    width = max(len(row["target"]) for row in rows)
    header = ("trials", "mid-run", "acked", "lost", "half", "audit ok", "resumed", "seconds")
    print(f"{'scenario':<{width}} " + " ".join(f"{h:>8}" for h in header))
    for row in rows:
        values = (row["trials"], row["killed_mid_run"], row["acknowledged"], row["lost"], row["half_written"],
                  row["audit_chain_ok"], row["resumed_ok"], row["seconds"])
        print(f"{row['target']:<{width}} " + " ".join(f"{v:>8}" for v in values))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "crash", "commit": _commit(), "machine": platform.platform(),
                                    "cpus": os.cpu_count(), "trials": args.trials, "seed": args.seed, "rows": rows},
                                   indent=1) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
