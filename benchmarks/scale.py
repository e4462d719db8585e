"""Scale-out benchmark: single process vs Ray (1 and 2 workers) per batch job, the live path with 1 and 2
workers, and the cores needed for 1,000 / 10,000 monitored beds and for 10 million notes overnight.

    OMP_NUM_THREADS=1 MEDAI_DATA_DIR=../shared/data .venv/bin/python benchmarks/scale.py

Writes ``benchmarks/results/scale.json`` and prints the tables. Needs the shared data, Ray (extra
``distributed``), PostgreSQL ($MEDAI_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test)
and Redis at 127.0.0.1:6379. Every figure is measured on this machine in this run; the Ray figures
include starting the job's actors and loading the model (the overhead Ray adds), not starting Ray itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
POSTGRES = os.environ.get("MEDAI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = "redis://127.0.0.1:6379/0"
VITALS_PER_ROW = 5  # HR, RR, systolic BP, temperature, SpO2: one Observation each
NIGHT_SECONDS = 8 * 3600


def _data() -> Path:
    return Path(os.environ.get("MEDAI_DATA_DIR") or ROOT.parent / "shared" / "data")


# ---------------------------------------------------------------------------------------------- inputs

def sepsis_input(folder: Path, patients: int) -> Path:
    target = folder / "sepsis.zip"
    with zipfile.ZipFile(_data() / "physionet2019" / "training_setA.zip") as source, zipfile.ZipFile(target, "w") as out:
        for name in sorted(n for n in source.namelist() if n.endswith(".psv"))[:patients]:
            out.writestr(name, source.read(name))
    return target


def readmission_input(folder: Path, encounters: int) -> Path:
    with zipfile.ZipFile(_data() / "diabetes130" / "dataset_diabetes.zip") as archive:
        member = next(n for n in archive.namelist() if n.endswith("diabetic_data.csv"))
        lines = archive.read(member).decode("utf-8").splitlines()[:encounters + 1]
    target = folder / "encounters.csv"
    target.write_text("\n".join(lines) + "\n")
    return target


def imaging_input(folder: Path, images: int) -> Path:
    import numpy as np
    from PIL import Image

    target = folder / "cxr"
    target.mkdir()
    arrays = np.load(_data() / "medmnist_pneumoniamnist_variant" / "pneumoniamnist_trainval.npz")["train_images"][:images]
    for i, array in enumerate(arrays):
        Image.fromarray(array).save(target / f"cxr{i:05d}.png")
    return target


def notes_input(folder: Path, notes: int) -> Path:
    from medai.datasets import mtsamples

    target = folder / "notes"
    target.mkdir()
    for i, sample in enumerate(mtsamples.load(_data())[:notes]):
        (target / f"note{i:05d}.txt").write_text(sample.transcription[:4000])
    return target


# ---------------------------------------------------------------------------------------------- batch

def _single(name: str, source: Path, out: Path) -> tuple[float, int]:
    """The single-process path each CLI verb takes without --ray; (seconds, units scored)."""
    began = time.perf_counter()
    if name == "sepsis":
        from medai.risk.sepsis.predict import load_shipped_model, predict_folder

        _, rows, _ = predict_folder(load_shipped_model, source, out, n_jobs=1)
        return time.perf_counter() - began, rows
    if name == "readmission":
        from medai.risk.readmission.predict import load_shipped_model, predict_csv

        count = predict_csv(load_shipped_model(), source, out / "p.csv")
        return time.perf_counter() - began, count
    if name == "imaging":
        from medai.imaging.predict import load_model, predict_paths

        results = predict_paths(load_model("pneumonia-cxr"), [source], batch_size=32)
        return time.perf_counter() - began, len(results)
    from medai.notes.extract import ConditionExtractor
    from medai.privacy.text import Deidentifier

    files = sorted(source.glob("*.txt"))
    texts = [f.read_text() for f in files]
    deidentifier, extractor = Deidentifier(), ConditionExtractor()
    for path, text in zip(files, texts):
        deidentifier.deidentify(text, path.stem)
    for begin in range(0, len(texts), 8):
        extractor.extract_many(texts[begin:begin + 8])
    return time.perf_counter() - began, len(texts)


def _ray(name: str, source: Path, out: Path, workers: int) -> tuple[float, int]:
    from medai.distributed.batch import run_job
    from medai.distributed.imaging import ImagingJob
    from medai.distributed.notes import NotesJob
    from medai.distributed.readmission import ReadmissionJob
    from medai.distributed.sepsis import SepsisPsvJob

    began = time.perf_counter()
    if name == "notes":
        deid = run_job(NotesJob((str(source),), task="deid", partition_size=16), out / "deid", ray=True, workers=workers)
        run_job(NotesJob((str(source),), task="extract", partition_size=16), out / "extract", ray=True, workers=workers)
        return time.perf_counter() - began, deid["rows"]
    job = {"sepsis": lambda: SepsisPsvJob(str(source), partition_size=50),
           "readmission": lambda: ReadmissionJob(str(source), partitions=8),
           "imaging": lambda: ImagingJob((str(source),), "pneumonia-cxr", partition_size=256)}[name]()
    summary = run_job(job, out, ray=True, workers=workers)
    return time.perf_counter() - began, summary["rows"]


def batch_benchmarks(folder: Path, sizes: dict[str, int]) -> list[dict]:
    from medai.distributed.runtime import ray_session

    inputs = {"sepsis": sepsis_input(folder, sizes["sepsis"]), "readmission": readmission_input(folder, sizes["readmission"]),
              "imaging": imaging_input(folder, sizes["imaging"]), "notes": notes_input(folder, sizes["notes"])}
    units = {"sepsis": "patient-hours", "readmission": "encounters", "imaging": "images", "notes": "notes (deid + extract)"}
    rows = []
    for name, source in inputs.items():
        seconds, count = _single(name, source, folder / f"{name}-single")
        rows.append({"job": name, "engine": "single process", "workers": 1, "units": units[name], "count": count,
                     "seconds": round(seconds, 2), "per_second": round(count / seconds, 2)})
        print(rows[-1], flush=True)
    began = time.perf_counter()
    with ray_session(num_cpus=2):
        ray_start = time.perf_counter() - began
        for name, source in inputs.items():
            for workers in (1, 2):
                seconds, count = _ray(name, source, folder / f"{name}-ray{workers}", workers)
                rows.append({"job": name, "engine": "ray", "workers": workers, "units": units[name], "count": count,
                             "seconds": round(seconds, 2), "per_second": round(count / seconds, 2)})
                print(rows[-1], flush=True)
    for row in rows:
        base = next(r for r in rows if r["job"] == row["job"] and r["engine"] == "single process")
        row["vs_single"] = round(row["per_second"] / base["per_second"], 2)
    return rows, round(ray_start, 1)


# ---------------------------------------------------------------------------------------------- live path

def serve_worker(args) -> None:
    """A ``medai serve`` worker process on ``args.port`` (partitioned when ``args.workers`` > 0)."""
    import uvicorn
    from sqlalchemy import create_engine

    from medai.config import Settings
    from medai.service.app import create_app

    url = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, connect_args={"options": f"-csearch_path={args.schema}"}, pool_size=10)
    settings = Settings(home=Path(args.home), database_url=url, base_url=f"http://127.0.0.1:{args.port}")
    app = create_app(settings, engine)
    if args.workers:
        from medai.service.partitioning import install_partitioning

        install_partitioning(app, REDIS, worker=args.worker, workers=args.workers, partitions=16, prefix=args.prefix)
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


def _live_observations(patients: list[str], hours: int) -> dict[str, list[dict]]:
    from tests.conftest import vital

    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=hours + 1)
    codes = [("8867-4", "/min", 90), ("9279-1", "/min", 20), ("8480-6", "mm[Hg]", 110), ("8310-5", "Cel", 37.6),
             ("59408-5", "%", 95)]
    return {p: [vital(f"Patient/{p}", loinc, value + (h % 3), unit, start + timedelta(hours=h, minutes=5 * i + 1))
                for h in range(hours) for i, (loinc, unit, value) in enumerate(codes)] for p in patients}


def live_run(folder: Path, workers: int, partitioned: bool, n_patients: int, hours: int) -> dict:
    import httpx
    from sqlalchemy import create_engine, func, select, text

    from medai.store.accounts import add_user, issue_token
    from medai.store.audit import AuditEvent, append_in
    from medai.store.db import migrate
    from medai.store.ingest import ingest_bundle
    from medai.store.schema import predictions
    from tests.conftest import make_bundle

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1),
                           connect_args={"options": f"-csearch_path={schema}"})
    migrate(engine)
    bundles = [make_bundle(hours=0) for _ in range(n_patients)]
    patients = [b["entry"][0]["resource"]["id"] for b in bundles]
    with engine.begin() as connection:
        for bundle in bundles:
            ingest_bundle(connection, bundle)
        add_user(connection, "feed", "service", password="feed-pw")
        token = issue_token(connection, "feed")[1]
        # the audit chain's head row must exist before concurrent workers append (FOR UPDATE locks a row)
        append_in(connection, AuditEvent("benchmark", "admin", "benchmark:setup"))
    prefix = f"medai-bench:{uuid.uuid4().hex[:8]}"
    ports = [8700 + i + (10 if partitioned else 0) + 20 * workers for i in range(workers)]
    processes = [subprocess.Popen([sys.executable, __file__, "--serve-worker", "--port", str(port), "--schema", schema,
                                   "--worker", str(i), "--workers", str(workers if partitioned else 0),
                                   "--prefix", prefix, "--home", str(folder)], env=os.environ.copy())
                 for i, port in enumerate(ports)]
    try:
        for port in ports:
            for _ in range(120):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
        streams = _live_observations(patients, hours)
        total = sum(len(v) for v in streams.values())
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
        counter = iter(range(10**9))
        lock = threading.Lock()

        def feed(group: list[str]) -> None:
            with httpx.Client(timeout=60) as client:
                for patient in group:  # one patient's observations in order, from one client
                    for observation in streams[patient]:
                        with lock:
                            port = ports[next(counter) % len(ports)]  # the load balancer: round robin
                        client.post(f"http://127.0.0.1:{port}/fhir/Observation", json=observation,
                                    headers=headers).raise_for_status()

        began = time.perf_counter()
        threads = [threading.Thread(target=feed, args=(patients[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted = time.perf_counter() - began
        query = select(func.count()).select_from(predictions).where(predictions.c.model_id == "sepsis-ews")
        while True:
            with engine.connect() as connection:
                done = connection.execute(query).scalar()
            if done >= total or time.perf_counter() - began > 600:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - began
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        if partitioned:
            import redis

            redis.Redis.from_url(REDIS).delete(*[f"{prefix}:{p}" for p in range(16)])
    return {"workers": workers, "partitioned": partitioned, "observations": total, "risk_updates": done,
            "seconds": round(seconds, 2), "accept_seconds": round(accepted, 2), "per_second": round(done / seconds, 1)}


# ---------------------------------------------------------------------------------------------- sizing

def sizing(batch: list[dict], live: list[dict]) -> list[dict]:
    """Cores needed, from the per-core (one worker) throughput measured above."""
    one_live = next(r for r in live if r["workers"] == 1 and r["partitioned"])
    notes = next(r for r in batch if r["job"] == "notes" and r["engine"] == "single process")
    notes_ray = next(r for r in batch if r["job"] == "notes" and r["engine"] == "ray" and r["workers"] == 2)
    out = []
    for beds in (1_000, 10_000):
        needed = beds * VITALS_PER_ROW / 60.0
        out.append({"workload": f"{beds:,} monitored beds, one vitals row per bed per minute",
                    "rate_needed": f"{needed:.1f} observations/s", "per_core": f"{one_live['per_second']:.1f} observations/s",
                    "cores": math.ceil(needed / one_live["per_second"])})
    needed = 10_000_000 / NIGHT_SECONDS
    out.append({"workload": "10 million notes overnight (8 h), de-identification + condition extraction",
                "rate_needed": f"{needed:.0f} notes/s", "per_core": f"{notes['per_second']:.2f} notes/s",
                "cores": math.ceil(needed / notes["per_second"]),
                "cores_at_ray_efficiency": math.ceil(needed / (notes_ray["per_second"] / 2))})
    return out


def _table(rows: list[dict], columns: list[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int)
    parser.add_argument("--schema")
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--prefix")
    parser.add_argument("--home")
    parser.add_argument("--quick", action="store_true", help="Smaller inputs (a smoke run).")
    args = parser.parse_args()
    if args.serve_worker:
        serve_worker(args)
        return
    sizes = ({"sepsis": 60, "readmission": 2000, "imaging": 256, "notes": 16} if args.quick else
             {"sepsis": 300, "readmission": 20000, "imaging": 1024, "notes": 24})
    live_size = (12, 3) if args.quick else (40, 6)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        batch, ray_start = batch_benchmarks(folder, sizes)
        live = []
        for workers, partitioned in ((1, False), (1, True), (2, True)):
            live.append(live_run(folder, workers, partitioned, *live_size))
            print(live[-1], flush=True)
    table = sizing(batch, live)
    print("\nBatch scoring (Ray start-up of", ray_start, "s not included)")
    print(_table(batch, ["job", "engine", "workers", "count", "units", "seconds", "per_second", "vs_single"]))
    print("\nLive path (streamed Observations -> stored sepsis risk updates; PostgreSQL, Redis Streams)")
    print(_table(live, ["workers", "partitioned", "observations", "seconds", "per_second"]))
    print("\nCores needed")
    print(_table(table, ["workload", "rate_needed", "per_core", "cores"]))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    out = ROOT / "benchmarks" / "results" / "scale.json"
    out.write_text(json.dumps({"commit": commit, "machine": platform.platform(), "cpus": os.cpu_count(),
                               "date": datetime.now(timezone.utc).isoformat(), "ray_start_seconds": ray_start,
                               "sizes": sizes, "batch": batch, "live": live, "sizing": table}, indent=1))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
