"""Splitting an input by a key (the patient) into deterministic partition files before scoring.

Scoring that needs all of a patient's data together (a stay's hourly rows, a patient's earlier
encounters) cannot cut the input at arbitrary lines. One streaming pass writes each line to
``_staging/part-NNNNN.<suffix>`` chosen by a stable hash of its key; the folder is marked complete
only at the end, so an interrupted split is redone rather than trusted.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Iterable
from pathlib import Path

from medai.distributed.partitions import partition_name

STAGING = "_staging"
COMPLETE = "_complete.json"


def partition_of(key: str, n_partitions: int) -> int:
    """The partition of ``key`` (CRC-32, stable across processes and machines, unlike ``hash``)."""
    return zlib.crc32(key.encode("utf-8")) % n_partitions


def stage(out_dir: Path, lines: Iterable[tuple[str, str]], n_partitions: int, fingerprint: dict,
          suffix: str = "ndjson", header: str | None = None) -> list[Path]:
    """Write ``(key, line)`` pairs into ``n_partitions`` staging files; reuse a complete staging of the same input.

    ``header`` (e.g. a CSV header) starts every file. Returns the files in partition order.
    """
    folder = Path(out_dir) / STAGING
    files = [folder / f"{partition_name(i)}.{suffix}" for i in range(n_partitions)]
    marker = folder / COMPLETE
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == fingerprint:
        return files
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    handles = [path.open("w", encoding="utf-8") for path in files]
    try:
        if header is not None:
            for handle in handles:
                handle.write(header.rstrip("\n") + "\n")
        for key, line in lines:
            handles[partition_of(key, n_partitions)].write(line.rstrip("\n") + "\n")
    finally:
        for handle in handles:
            handle.close()
    tmp = folder / f".{COMPLETE}"
    tmp.write_text(json.dumps(fingerprint), encoding="utf-8")
    os.replace(tmp, marker)
    return files


def file_fingerprint(paths: Iterable[Path]) -> list[list]:
    """Names, sizes and modification times of input files (what changes when the input changes)."""
    return [[str(Path(p).resolve()), Path(p).stat().st_size, int(Path(p).stat().st_mtime)] for p in paths]
