"""What the batch CLI verbs call when given ``--ray [ADDRESS]``: run the job on Ray and print its summary."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from medai.distributed.batch import BatchJob, run_job
from medai.distributed.runtime import LOCAL, ray_session


def run_on_ray(job: BatchJob, out: Path, address: str | None, workers: int, console: Console) -> dict:
    """Run ``job`` into ``out`` on the Ray at ``address`` (None: ``RAY_ADDRESS``, else a local one) and print the outcome."""
    address = address or os.environ.get("RAY_ADDRESS") or LOCAL
    with console.status(f"Running {job.kind} on Ray ({address}), {workers} workers..."):
        with ray_session(address):
            summary = run_job(job, out, ray=True, workers=workers)
    console.print(f"{summary['partitions']} partitions ({summary['resumed_partitions']} kept from an earlier run), "
                  f"{summary['items']} inputs, {summary['rows']} rows in {summary['seconds']:.1f} s -> {out}")
    for problem in summary["problems"][:20]:
        console.print(f"[red]skipped[/] {problem.get('location')}: {problem.get('message')}")
    console.print(f"summary: {Path(out) / '_summary.json'}")
    return summary
