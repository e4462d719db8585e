"""One local Ray per test module (it takes ~10 s and ~1.4 GB to start), and small scoring inputs."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def ray_local():
    """A local two-CPU Ray shared by the tests of one module."""
    pytest.importorskip("ray", reason="the distributed extra (ray) is not installed")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from medai.distributed.runtime import ray_session

    with ray_session(num_cpus=2) as ray:
        yield ray


def psv_subset(data_dir: Path, target: Path, count: int) -> Path:
    """A zip with the first ``count`` patient files of the shared challenge training set A."""
    with zipfile.ZipFile(data_dir / "physionet2019" / "training_setA.zip") as source:
        names = sorted(n for n in source.namelist() if n.endswith(".psv"))[:count]
        with zipfile.ZipFile(target, "w") as out:
            for name in names:
                out.writestr(name, source.read(name))
    return target
