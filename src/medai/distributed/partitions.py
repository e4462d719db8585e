"""Resumable partitioned output: deterministic names, atomic writes, and a done-marker manifest.

An output folder holds ``part-00000.parquet`` (or ``.ndjson``) files, ``_job.json`` (what the run
is: job kind, parameters, input fingerprint, partition names) and ``_done.jsonl`` (one line per
finished partition, appended by the driver only after the partition's file was renamed into
place). On resume, partitions listed in ``_done.jsonl`` are skipped; any other ``part-*`` file (a
partition that finished after the driver died, before it was recorded) is simply rewritten, and
leftover temporary files are removed, so nothing is duplicated or lost.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

JOB_FILE = "_job.json"
DONE_FILE = "_done.jsonl"
SUMMARY_FILE = "_summary.json"
TMP_PREFIX = ".tmp-"


class ResumeMismatch(ValueError):
    """The output folder belongs to a different run (another job, input or parameters)."""


def partition_name(index: int) -> str:
    """The deterministic name of partition ``index``."""
    return f"part-{index:05d}"


def partition_file(out_dir: Path, name: str, fmt: str) -> Path:
    """Where partition ``name`` is written."""
    return Path(out_dir) / f"{name}.{fmt}"


def write_rows(out_dir: Path, name: str, rows: list[dict], fmt: str, schema: dict[str, str] | None = None) -> Path:
    """Write one partition atomically (temporary file, then rename); returns the final path.

    ``fmt`` is ``parquet`` (needs pyarrow; ``schema`` maps column -> arrow type name so that empty
    partitions keep their columns) or ``ndjson``.
    """
    out_dir = Path(out_dir)
    final = partition_file(out_dir, name, fmt)
    tmp = out_dir / f"{TMP_PREFIX}{name}-{uuid.uuid4().hex[:8]}.{fmt}"
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        if schema:
            arrow_schema = pa.schema([(column, getattr(pa, kind)()) for column, kind in schema.items()])
            table = pa.Table.from_pylist(rows, schema=arrow_schema)
        else:
            table = pa.Table.from_pylist(rows)
        pq.write_table(table, tmp)
    elif fmt == "ndjson":
        with tmp.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    else:
        raise ValueError(f"unknown output format {fmt!r}: use 'parquet' or 'ndjson'")
    os.replace(tmp, final)
    return final


def start_run(out_dir: Path, job: dict, names: list[str]) -> set[str]:
    """Prepare ``out_dir`` for a run of ``job`` over partitions ``names``; return the names already done.

    A folder holding another run's output raises :class:`ResumeMismatch` instead of being mixed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {**job, "partitions": names}
    job_path = out_dir / JOB_FILE
    if job_path.exists():
        previous = json.loads(job_path.read_text(encoding="utf-8"))
        if previous != record:
            changed = sorted(k for k in set(previous) | set(record) if previous.get(k) != record.get(k))
            raise ResumeMismatch(f"{out_dir} holds the output of a different run (differs in: {', '.join(changed)}); "
                                 "use an empty folder or the same job, input and options")
    else:
        tmp = out_dir / f"{TMP_PREFIX}{JOB_FILE}"
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(tmp, job_path)
    for leftover in out_dir.glob(f"{TMP_PREFIX}*"):
        leftover.unlink()
    (out_dir / SUMMARY_FILE).unlink(missing_ok=True)
    return set(done_partitions(out_dir))


def done_partitions(out_dir: Path) -> dict[str, dict]:
    """The finished partitions recorded in ``_done.jsonl`` (name -> record); a torn last line is ignored."""
    path = Path(out_dir) / DONE_FILE
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        done[record["partition"]] = record
    return done


def mark_done(out_dir: Path, record: dict) -> None:
    """Append a finished partition's record (name, file, rows, errors, seconds) to ``_done.jsonl``."""
    with (Path(out_dir) / DONE_FILE).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_summary(out_dir: Path, summary: dict) -> Path:
    """Write ``_summary.json`` (atomically) when every partition is done."""
    path = Path(out_dir) / SUMMARY_FILE
    tmp = Path(out_dir) / f"{TMP_PREFIX}{SUMMARY_FILE}"
    tmp.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path
