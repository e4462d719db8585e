"""Resumable partitioned output without Ray: atomic partitions, done markers, resume checks."""

import json

import pytest

from medai.distributed.partitions import (DONE_FILE, ResumeMismatch, done_partitions, mark_done, start_run,
                                          write_rows)


def test_partition_written_atomically_and_leftovers_removed_on_resume(tmp_path):
    job = {"kind": "k", "input": [1]}
    assert start_run(tmp_path, job, ["part-00000", "part-00001"]) == set()
    write_rows(tmp_path, "part-00000", [{"a": 1}, {"a": 2}], "ndjson")
    mark_done(tmp_path, {"partition": "part-00000", "rows": 2})
    (tmp_path / ".tmp-part-00001-dead.ndjson").write_text('{"a": 3')  # a worker killed mid-write
    with (tmp_path / DONE_FILE).open("a") as handle:
        handle.write('{"partition": "part-0')  # a driver killed mid-append
    assert start_run(tmp_path, job, ["part-00000", "part-00001"]) == {"part-00000"}
    assert not list(tmp_path.glob(".tmp-*"))
    lines = (tmp_path / "part-00000.ndjson").read_text().splitlines()
    assert [json.loads(line)["a"] for line in lines] == [1, 2]
    assert list(done_partitions(tmp_path)) == ["part-00000"]


def test_resume_into_another_runs_folder_is_refused(tmp_path):
    start_run(tmp_path, {"kind": "k", "input": [1]}, ["part-00000"])
    with pytest.raises(ResumeMismatch, match="differs in: input"):
        start_run(tmp_path, {"kind": "k", "input": [2]}, ["part-00000"])


def test_empty_parquet_partition_keeps_its_columns(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = write_rows(tmp_path, "part-00000", [], "parquet", {"patient_id": "string", "probability": "float64"})
    assert pq.read_table(path).column_names == ["patient_id", "probability"]


def test_the_default_install_never_imports_ray():
    import subprocess
    import sys

    code = ("import sys, medai.cli.main, medai.distributed.batch, medai.distributed.sepsis, medai.service.partitioning; "
            "print('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_missing_ray_names_the_extra(monkeypatch):
    import sys

    from medai.distributed.runtime import require_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"medai\[distributed\]"):
        require_ray()
