"""Running a partitioned batch-scoring job in this process or on Ray Data, resumably.

A job (see :class:`BatchJob`) splits its input into deterministic partitions and scores one
partition at a time. :func:`run_job` writes each partition's rows atomically, records it in the
done-marker manifest, skips partitions a previous (interrupted) run finished, and writes a summary.
On Ray, partitions flow through a Ray Data pipeline whose actor pool holds one loaded model per
worker, so a model is loaded once per worker rather than once per partition.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from medai.distributed.partitions import done_partitions, mark_done, start_run, write_rows, write_summary

Scorer = Callable[[dict], tuple[list[dict], list[dict]]]


class BatchJob(Protocol):
    """What :func:`run_job` needs from a job (jobs are small picklable dataclasses)."""

    kind: str
    fmt: str
    schema: dict[str, str]

    def describe(self) -> dict:
        """The run's identity for resume checks: kind, input fingerprint, options, model identity."""

    def plan(self, out_dir: Path) -> list[dict]:
        """The partitions, each ``{"name": "part-00000", ...inputs}``; same input, same plan."""

    def scorer(self) -> Scorer:
        """A function scoring one partition into ``(rows, problems)``; called once per worker."""


def execute_partition(score: Scorer, out_dir: Path, job: BatchJob, spec: dict) -> dict:
    """Score one partition and write it atomically; the record to mark it done."""
    began = time.perf_counter()
    rows, problems = score(spec)
    path = write_rows(out_dir, spec["name"], rows, job.fmt, job.schema)
    return {"partition": spec["name"], "file": path.name, "rows": len(rows), "items": len(spec.get("items", ())),
            "problems": problems, "seconds": round(time.perf_counter() - began, 4)}


class _RayPartitionScorer:
    """A Ray Data actor: loads the job's model once, then scores the partitions it is handed."""

    def __init__(self, job: BatchJob, out_dir: str):
        self.job, self.out_dir, self.score = job, Path(out_dir), job.scorer()

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        records = [json.dumps(execute_partition(self.score, self.out_dir, self.job, json.loads(str(spec))))
                   for spec in batch["spec"]]
        return {"record": np.array(records, dtype=object)}


def _run_on_ray(job: BatchJob, out_dir: Path, todo: list[dict], workers: int, finished: Callable[[dict], None]) -> None:
    from medai.distributed.runtime import require_ray

    ray = require_ray()
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.execution_options.preserve_order = False
    dataset = ray.data.from_items([{"spec": json.dumps(spec)} for spec in todo], override_num_blocks=len(todo))
    pool = ray.data.ActorPoolStrategy(size=max(1, min(workers, len(todo))))
    scored = dataset.map_batches(_RayPartitionScorer, fn_constructor_args=(job, str(out_dir)), batch_size=1,
                                 batch_format="numpy", compute=pool, num_cpus=1)
    for row in scored.iter_rows():
        finished(json.loads(str(row["record"])))


def run_job(job: BatchJob, out_dir: Path, ray: bool = False, workers: int = 2,
            on_partition: Callable[[dict], None] | None = None) -> dict:
    """Run ``job`` into ``out_dir`` (locally, or on the connected Ray when ``ray``); return the summary.

    Already finished partitions are skipped, so calling it again after an interruption completes the
    run. ``on_partition`` sees each partition's record as it is marked done. Call inside
    :func:`medai.distributed.runtime.ray_session` when ``ray`` is true.
    """
    out_dir = Path(out_dir)
    began = time.perf_counter()
    plan = job.plan(out_dir)
    done = start_run(out_dir, job.describe(), [spec["name"] for spec in plan])
    todo = [spec for spec in plan if spec["name"] not in done]

    def finished(record: dict) -> None:
        mark_done(out_dir, record)
        if on_partition is not None:
            on_partition(record)

    if todo and ray:
        _run_on_ray(job, out_dir, todo, workers, finished)
    elif todo:
        score = job.scorer()
        for spec in todo:
            finished(execute_partition(score, out_dir, job, spec))
    records = done_partitions(out_dir)
    missing = [spec["name"] for spec in plan if spec["name"] not in records]
    if missing:
        raise RuntimeError(f"partitions {', '.join(missing[:5])} were not written; run again to resume")
    problems = [problem for record in records.values() for problem in record["problems"]]
    summary = {"job": job.describe(), "engine": "ray" if ray else "local", "workers": workers if ray else 1,
               "partitions": len(plan), "resumed_partitions": len(plan) - len(todo),
               "items": sum(r["items"] for r in records.values()), "rows": sum(r["rows"] for r in records.values()),
               "problems": problems, "files": [records[spec["name"]]["file"] for spec in plan],
               "seconds": round(time.perf_counter() - began, 3)}
    write_summary(out_dir, summary)
    return summary


def read_output(out_dir: Path) -> list[dict]:
    """Every row of a finished run, partition by partition (for tests, benchmarks and small outputs)."""
    out_dir = Path(out_dir)
    summary = json.loads((out_dir / "_summary.json").read_text(encoding="utf-8"))
    rows: list[dict] = []
    for name in summary["files"]:
        path = out_dir / name
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows += pq.read_table(path).to_pylist()
        else:
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows
