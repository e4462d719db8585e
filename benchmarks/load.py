"""Load benchmark: CDS Hooks patient-view and streamed Observations under concurrent load, beside a bare FastAPI.

    OMP_NUM_THREADS=1 python benchmarks/load.py [--clients 10 50 200] [--seconds 15] [--soak-minutes 30]

Three server processes on 127.0.0.1, each on a free port: ``medai serve`` on a prepared SQLite database with a
few demo patients (its load shedder at ``--max-in-flight``), the same without a bound (``--max-in-flight 0``,
the comparison that shows what shedding buys at the top level), and a tiny FastAPI app with one ``GET /ping``
(the framework's own limit). The load comes from ``--client-processes`` other processes, each an asyncio +
httpx driver holding a fixed number of connections busy for ``--seconds`` (after a warm-up that is not counted;
a client told 503/504 waits its Retry-After before sending again, as a well-behaved EHR would):

- ``cds``: ``POST /cds-services/sepsis-early-warning`` (hook patient-view, a demo patient chosen at random),
  authenticated as a registered EHR with a fresh ES384 JWT per request (as the CDS Hooks security model asks);
- ``observation``: ``POST /fhir/Observation`` (demo vital signs and labs stamped now), with a service bearer token;
- ``ping``: ``GET /ping`` on the bare app.

Per cell: throughput (answers/s and 2xx/s), p50/p99 latency of the accepted (2xx) requests, shed (503) and
timed-out (504) shares, error rate (every answer that is not 2xx, transport failures included), and the
ratios to the bare endpoint at the same number of clients. Then a soak: the mixed load for ``--soak-minutes``
at ``--soak-clients``, the medai server's resident memory sampled every 10 s (psutil when installed, else
/proc/PID/status): start, end, max and the least-squares slope. Writes benchmarks/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CDS_SERVICE = "sepsis-early-warning"
EHR_ISSUER = "https://ehr.load.example.org"


# ---------------------------------------------------------------- servers


def bare_app():
    """The framework's own limit: FastAPI with one trivial route."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict:
        return {"ok": True}

    return app


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Prepared:
    """The database with demo patients, the credentials of the load clients and the observations they post."""

    home: Path
    token: str
    ehr_key_pem: bytes
    patients: list[str]
    observations: list[dict]


def prepare(home: Path, n_patients: int) -> Prepared:
    """A SQLite database with ``n_patients`` demo inpatients, a service token and a registered EHR key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from medai.config import Settings
    from medai.demo import generate_hospital, vital_stream
    from medai.store.accounts import add_cds_client, add_user, issue_token
    from medai.store.db import open_database
    from medai.store.ingest import ingest_bundle

    engine = open_database(Settings(home=home, database_url=f"sqlite:///{home / 'medai.db'}"))
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    bundles = generate_hospital(n_patients=n_patients, seed=11, now=now)
    key = ec.generate_private_key(ec.SECP384R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with engine.begin() as connection:
        for bundle in bundles:
            ingest_bundle(connection, bundle)
        add_user(connection, "load-feed", "service", password="load-feed-password")
        token = issue_token(connection, "load-feed")[1]
        add_cds_client(connection, EHR_ISSUER, public)
    engine.dispose()
    patients = [e["resource"]["id"] for b in bundles for e in b["entry"] if e["resource"]["resourceType"] == "Patient"]
    observations = [obs for _, obs in vital_stream(bundles, now, hours=48, seed=11, include_labs=True)]
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return Prepared(home, token, pem, patients, observations)


class Server:
    """A server subprocess on a free port, its output in a log file; stopped on exit."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], ready_path: str, log_dir: Path) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_dir / f"{name}.log", "wb")
        self.process = subprocess.Popen([*argv, "--port", str(self.port)], env={**os.environ, **env}, cwd=ROOT,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self._wait(ready_path)

    def _wait(self, path: str, seconds: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} server not ready after {seconds} s; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def medai_server(name: str, prepared: Prepared, max_in_flight: int) -> Server:
    """``medai serve`` on the prepared database."""
    env = {"MEDAI_HOME": str(prepared.home), "MEDAI_DATABASE_URL": f"sqlite:///{prepared.home / 'medai.db'}",
           "MEDAI_MAX_IN_FLIGHT": str(max_in_flight), "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-c", "from medai.cli.main import app; app()", "serve", "--host", "127.0.0.1"]
    return Server(name, argv, env, "/health", prepared.home)


def bare_server(log_dir: Path) -> Server:
    """The bare FastAPI app in its own uvicorn process."""
    return Server("bare", [sys.executable, str(Path(__file__).resolve()), "--serve-bare"], {}, "/ping", log_dir)


# ---------------------------------------------------------------- load clients


@dataclass
class Workload:
    """What one client process sends: ``kinds`` in turn, to ``urls`` (by kind), with these credentials."""

    kinds: list[str]
    urls: dict[str, str]
    concurrency: int
    seconds: float
    warmup: float
    token: str = ""
    ehr_key_pem: bytes = b""
    jwt_lifetime: int = 60
    patients: list[str] = field(default_factory=list)
    observations: list[dict] = field(default_factory=list)
    seed: int = 0


def _request(work: Workload, kind: str, rng: random.Random, key) -> tuple[str, str, dict, bytes | None]:
    """(method, url, headers, body) of one request of ``kind``."""
    if kind == "ping":
        return "GET", work.urls["ping"] + "/ping", {}, None
    if kind == "cds":
        import jwt

        url = f"{work.urls['cds']}/cds-services/{CDS_SERVICE}"
        now = int(time.time())
        token = jwt.encode({"iss": EHR_ISSUER, "sub": "load-ehr", "aud": url, "iat": now, "exp": now + work.jwt_lifetime,
                            "jti": str(uuid.uuid4())}, key, algorithm="ES384", headers={"kid": "load-1"})
        body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/load", "patientId": rng.choice(work.patients)}}
        return "POST", url, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, json.dumps(body).encode()
    observation = dict(rng.choice(work.observations))
    observation["id"] = uuid.uuid4().hex
    observation["effectiveDateTime"] = datetime.now(timezone.utc).isoformat()
    headers = {"Authorization": f"Bearer {work.token}", "Content-Type": "application/fhir+json"}
    return "POST", work.urls["observation"] + "/fhir/Observation", headers, json.dumps(observation).encode()


async def _drive(work: Workload) -> list[tuple[str, float, float, int]]:
    import httpx
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(work.ehr_key_pem, None) if work.ehr_key_pem else None
    limits = httpx.Limits(max_connections=work.concurrency, max_keepalive_connections=work.concurrency)
    started = time.perf_counter()
    measure_from, stop_at = started + work.warmup, started + work.warmup + work.seconds
    records: list[tuple[str, float, float, int]] = []  # (kind, start offset s, latency s, status; 0 = transport error)

    async def client(index: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(work.seed * 10_000 + index)
        turn = index
        while (now := time.perf_counter()) < stop_at:
            kind = work.kinds[turn % len(work.kinds)]
            turn += 1
            method, url, headers, body = _request(work, kind, rng, key)
            sent = time.perf_counter()
            retry_after = 0.0
            try:
                response = await http.request(method, url, headers=headers, content=body)
                status = response.status_code
                if status in (503, 504):  # a well-behaved client waits as told before its next request
                    retry_after = float(response.headers.get("Retry-After", "0") or 0)
            except httpx.HTTPError:
                status = 0
            if now >= measure_from:
                records.append((kind, sent - started, time.perf_counter() - sent, status))
            if retry_after:
                await asyncio.sleep(min(retry_after, max(0.0, stop_at - time.perf_counter())))

    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        await asyncio.gather(*(client(i, http) for i in range(work.concurrency)))
    return records


def drive(work: Workload) -> list[tuple[str, float, float, int]]:
    """Run one client process's share of the load; its (kind, start, latency, status) records."""
    return asyncio.run(_drive(work))


def _split(work: Workload, processes: int) -> list[Workload]:
    """``work`` with its clients spread over ``processes`` client processes."""
    shares = [work.concurrency // processes + (i < work.concurrency % processes) for i in range(processes)]
    return [Workload(**{**work.__dict__, "concurrency": share, "seed": i}) for i, share in enumerate(shares) if share]


def run_load(pool: ProcessPoolExecutor, processes: int, work: Workload) -> list[tuple[str, float, float, int]]:
    """Run ``work`` from ``processes`` client processes and gather their records."""
    return [record for records in pool.map(drive, _split(work, processes)) for record in records]


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def summarise(records: list[tuple[str, float, float, int]], seconds: float) -> dict:
    """Throughput, accepted-request latency, shed / timeout / error shares of one cell."""
    total = len(records)
    ok = [latency for _, _, latency, status in records if 200 <= status < 300]
    statuses = [status for *_, status in records]
    ms = (lambda v: None if v is None else round(v * 1000, 1))
    return {"requests": total, "rps": round(total / seconds, 1), "ok_rps": round(len(ok) / seconds, 1),
            "p50_ms": ms(percentile(ok, 0.50)), "p99_ms": ms(percentile(ok, 0.99)),
            "p99_all_ms": ms(percentile([latency for _, _, latency, _ in records], 0.99)),
            "shed_pct": round(100 * statuses.count(503) / total, 2) if total else None,
            "timeout_pct": round(100 * statuses.count(504) / total, 2) if total else None,
            "error_pct": round(100 * (total - len(ok)) / total, 2) if total else None,
            "transport_errors": statuses.count(0),
            "other_statuses": sorted({s for s in statuses if s and not 200 <= s < 300 and s not in (503, 504)})}


# ---------------------------------------------------------------- soak


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    return psutil.Process(pid).memory_info().rss


def slope_mb_per_minute(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t, mean_m = sum(t for t, _ in samples) / n, sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return round(60 * sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread, 3) if spread else None


def soak(pool: ProcessPoolExecutor, processes: int, server: Server, work: Workload, every: float = 10.0) -> dict:
    """Run ``work`` while sampling the server's RSS every ``every`` seconds."""
    parts_future = [pool.submit(drive, part) for part in _split(work, processes)]
    started, samples = time.monotonic(), []
    while not all(f.done() for f in parts_future):
        samples.append((round(time.monotonic() - started, 1), round(rss_bytes(server.process.pid) / 2**20, 1)))
        time.sleep(every)
    samples.append((round(time.monotonic() - started, 1), round(rss_bytes(server.process.pid) / 2**20, 1)))
    records = [r for f in parts_future for r in f.result()]
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    mbs = [m for _, m in samples]
    return {"minutes": round(work.seconds / 60, 2), "clients": work.concurrency, "kinds": work.kinds,
            "load": summarise(records, work.seconds), "rss_start_mb": mbs[0], "rss_end_mb": mbs[-1], "rss_max_mb": max(mbs),
            "slope_mb_per_min": slope_mb_per_minute(samples), "slope_second_half_mb_per_min": slope_mb_per_minute(half),
            "samples": samples}


# ---------------------------------------------------------------- the run


def _with_ratios(row: dict, bare: dict | None) -> dict:
    if bare and bare["ok_rps"] and row["ok_rps"] is not None:
        row["ok_rps_vs_bare"] = round(row["ok_rps"] / bare["ok_rps"], 3)
    if bare and bare["p99_ms"] and row["p99_ms"] is not None:
        row["p99_vs_bare"] = round(row["p99_ms"] / bare["p99_ms"], 1)
    return row


def run_benchmark(clients: list[int], seconds: float, warmup: float = 3.0, patients: int = 6, max_in_flight: int = 32,
                  client_processes: int = 2, soak_minutes: float = 30.0, soak_clients: int = 10, jwt_lifetime: int = 60,
                  unbounded: bool = True) -> dict:
    """Every cell (endpoint x clients), the unbounded comparison at the top level, then the soak."""
    home = Path(tempfile.mkdtemp(prefix="medai-load-"))
    prepared = prepare(home, patients)
    common = {"seconds": seconds, "warmup": warmup, "token": prepared.token, "ehr_key_pem": prepared.ehr_key_pem,
              "jwt_lifetime": jwt_lifetime, "patients": prepared.patients, "observations": prepared.observations}
    servers = [bare_server(home), medai_server("medai", prepared, max_in_flight)]
    bare, medai = servers
    urls = {"ping": bare.url, "cds": medai.url, "observation": medai.url}
    rows, soaked = [], None
    try:
        with ProcessPoolExecutor(client_processes) as pool:
            def cell(server: str, kind: str, n: int, bound: int, urls: dict, bare_row: dict | None) -> dict:
                records = run_load(pool, client_processes, Workload(kinds=[kind], urls=urls, concurrency=n, **common))
                row = {"server": server, "endpoint": kind, "clients": n, "max_in_flight": bound} | summarise(records, seconds)
                print(f"  {server:<16} {kind:<12} {n:>4} clients: {row['ok_rps']:>8} ok/s  p99 {row['p99_ms']} ms  "
                      f"shed {row['shed_pct']}%  errors {row['error_pct']}%", flush=True)
                return _with_ratios(row, bare_row)

            bare_rows = {}
            for n in clients:
                bare_rows[n] = cell("bare FastAPI", "ping", n, 0, urls, None)
                rows.append(bare_rows[n])
                for kind in ("cds", "observation"):
                    rows.append(cell("medai", kind, n, max_in_flight, urls, bare_rows[n]))
            if unbounded and max_in_flight:
                top = max(clients)
                free = medai_server("medai-unbounded", prepared, 0)
                servers.append(free)
                for kind in ("cds", "observation"):
                    rows.append(cell("medai unbounded", kind, top, 0, {**urls, "cds": free.url, "observation": free.url},
                                     bare_rows[top]))
                free.stop()
                servers.remove(free)
            if soak_minutes > 0:
                print(f"  soak: {soak_minutes} min at {soak_clients} clients, RSS every 10 s", flush=True)
                work = Workload(kinds=["cds", "observation"], urls=urls, concurrency=soak_clients,
                                **{**common, "seconds": soak_minutes * 60})
                soaked = soak(pool, client_processes, medai, work)
    finally:
        for server in servers:
            server.stop()
    return {"rows": rows, "soak": soaked, "patients": patients, "max_in_flight": max_in_flight,
            "client_processes": client_processes, "seconds_per_cell": seconds, "jwt_lifetime_s": jwt_lifetime}


def print_table(result: dict) -> None:
    """The load table (ratios against the bare endpoint at the same number of clients)."""
    print(f"\n{'server':<16} {'endpoint':<12} {'clients':>7} {'req/s':>8} {'2xx/s':>8} {'x bare':>7} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'x bare':>7} {'shed %':>7} {'err %':>6}")
    for r in result["rows"]:
        print(f"{r['server']:<16} {r['endpoint']:<12} {r['clients']:>7} {r['rps']:>8} {r['ok_rps']:>8} "
              f"{r.get('ok_rps_vs_bare', ''):>7} {r['p50_ms'] or '':>8} {r['p99_ms'] or '':>8} {r.get('p99_vs_bare', ''):>7} "
              f"{r['shed_pct']:>7} {r['error_pct']:>6}")
    if soak := result["soak"]:
        print(f"\nsoak {soak['minutes']} min, {soak['clients']} clients ({'+'.join(soak['kinds'])}): "
              f"{soak['load']['ok_rps']} 2xx/s, errors {soak['load']['error_pct']}%; server RSS start {soak['rss_start_mb']} MB, "
              f"end {soak['rss_end_mb']} MB, max {soak['rss_max_mb']} MB, slope {soak['slope_mb_per_min']} MB/min "
              f"(second half {soak['slope_second_half_mb_per_min']} MB/min)")


def load_rows(result: dict) -> list[dict]:
    """The load figures as rows of the reliability table (failures: 5xx other than shedding, and transport errors)."""
    rows = []
    for r in result["rows"]:
        failures = round(r["requests"] * (r["error_pct"] - r["shed_pct"]) / 100) if r["requests"] else 0
        ratio = f", {r['ok_rps_vs_bare']}x bare" if "ok_rps_vs_bare" in r else ""
        rows.append({"target": f"load {r['server']} {r['endpoint']} @{r['clients']}: {r['ok_rps']} 2xx/s{ratio}, "
                               f"p99 {r['p99_ms']} ms, shed {r['shed_pct']}%",
                     "cases": r["requests"], "failures": failures, "crashes": [f"statuses {r['other_statuses']}"] if failures else [],
                     "seconds": result["seconds_per_cell"]})
    if soak := result["soak"]:
        load = soak["load"]
        rows.append({"target": f"soak {soak['minutes']} min RSS {soak['rss_start_mb']}->{soak['rss_end_mb']} MB "
                               f"(max {soak['rss_max_mb']}, {soak['slope_second_half_mb_per_min']} MB/min late)",
                     "cases": load["requests"], "failures": round(load["requests"] * (load["error_pct"] - load["shed_pct"]) / 100),
                     "crashes": [], "seconds": round(soak["minutes"] * 60)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200], help="concurrent clients per level")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per cell")
    parser.add_argument("--warmup", type=float, default=3.0, help="uncounted seconds before each cell")
    parser.add_argument("--patients", type=int, default=6, help="demo patients in the database")
    parser.add_argument("--max-in-flight", type=int, default=32, help="the medai server's load-shedding bound")
    parser.add_argument("--client-processes", type=int, default=2, help="processes generating the load")
    parser.add_argument("--soak-minutes", type=float, default=30.0, help="minutes of the memory soak (0: none)")
    parser.add_argument("--soak-clients", type=int, default=10)
    parser.add_argument("--jwt-lifetime", type=int, default=60, help="seconds each CDS Hooks JWT is valid")
    parser.add_argument("--no-unbounded", action="store_true", help="skip the unbounded comparison server")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "load.json")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        import uvicorn

        uvicorn.run(bare_app(), host="127.0.0.1", port=args.port, access_log=False, log_level="warning")
        return
    result = run_benchmark(args.clients, args.seconds, args.warmup, args.patients, args.max_in_flight,
                           args.client_processes, args.soak_minutes, args.soak_clients, args.jwt_lifetime,
                           not args.no_unbounded)
    print_table(result)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                                    "command": " ".join(sys.argv), **result}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
