"""Starting or joining a Ray cluster, with the same small-footprint settings everywhere."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

EXTRA_MESSAGE = "Ray is not installed: install medai's distributed extra (pip install 'medai[distributed]')"
LOCAL = "local"


def require_ray():
    """The ``ray`` module, or ImportError saying which extra to install."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as error:
        raise ImportError(EXTRA_MESSAGE) from error
    return ray


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[object]:
    """A connected Ray: reuse the one this process already joined, else join ``address``, else start a local one.

    ``address`` ``None`` or ``"local"`` starts a local single-node Ray (no dashboard, 200 MB object store)
    that is shut down on exit; any other value (``auto``, ``ray://head:10001``, ``10.0.0.5:6379``) joins
    an existing cluster, which is left running.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    runtime_env = {"env_vars": {"OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0"}}
    if address in (None, "", LOCAL):
        ray.init(address=LOCAL, num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, object_store_memory=200_000_000,
                 log_to_driver=False, runtime_env=runtime_env)
    else:
        ray.init(address=address, log_to_driver=False, runtime_env=runtime_env)
    try:
        yield ray
    finally:
        ray.shutdown()
