"""Live-path scale-out: streamed Observations partitioned by patient across ``medai serve`` workers.

Any worker behind the load balancer accepts an Observation (validate, store in the shared
database, audit) and appends it to a Redis Stream chosen by a stable hash of the patient id.
Each partition stream has exactly one consumer, the worker that owns it (``partition % workers ==
worker``), so every patient's incremental state (the sepsis monitor's hourly rows, alert state)
lives in one worker and sees that patient's updates in order. The owner runs the application
listeners and acknowledges the entry afterwards (at-least-once: entries a crashed owner had not
acknowledged are re-read first when it restarts). Changing the number of workers moves partitions;
a worker that gains a patient rebuilds the state from the shared database (the listeners' warm start).
"""

from __future__ import annotations

import json
import logging
import threading
import zlib

from fastapi import FastAPI

from medai.store.accounts import Principal

logger = logging.getLogger("medai.partitioning")
GROUP = "medai-workers"
EXTRA_MESSAGE = "the Redis client is not installed: install medai's serve extra (pip install 'medai[serve]')"


def partition_of(patient_id: str, partitions: int) -> int:
    """The partition of a patient (CRC-32: the same in every process and on every machine)."""
    return zlib.crc32(patient_id.encode("utf-8")) % partitions


class PartitionedBus:
    """Redis Streams ``<prefix>:<partition>``; this worker consumes the partitions it owns."""

    def __init__(self, url: str, worker: int = 0, workers: int = 1, partitions: int = 64, prefix: str = "medai:observations"):
        if not 0 <= worker < workers <= partitions:
            raise ValueError(f"need 0 <= worker ({worker}) < workers ({workers}) <= partitions ({partitions})")
        try:
            import redis
        except ImportError as error:
            raise ImportError(EXTRA_MESSAGE) from error
        self.client = redis.Redis.from_url(url)
        self.worker, self.workers, self.partitions, self.prefix = worker, workers, partitions, prefix
        self.consumer = f"worker-{worker}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.processed = 0

    def stream(self, partition: int) -> str:
        """The stream key of a partition."""
        return f"{self.prefix}:{partition}"

    def owned(self) -> list[int]:
        """The partitions this worker consumes."""
        return [p for p in range(self.partitions) if p % self.workers == self.worker]

    def publish(self, patient_id: str, resource: dict, principal: Principal) -> str:
        """Append an accepted Observation to its patient's partition; returns the entry id."""
        body = json.dumps({"resource": resource, "actor": principal.username, "role": principal.role,
                           "patient_id": patient_id})
        return self.client.xadd(self.stream(partition_of(patient_id, self.partitions)), {"body": body}).decode()

    def _ensure_groups(self) -> None:
        import redis

        for partition in self.owned():
            try:
                self.client.xgroup_create(self.stream(partition), GROUP, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def _handle(self, app: FastAPI, stream: bytes, entry_id: bytes, fields: dict) -> None:
        from medai.core.fhir import record_from_fhir
        from medai.service.streaming import notify_listeners

        message = json.loads(fields[b"body"])
        try:
            record = record_from_fhir(message["resource"])
            notify_listeners(app, Principal(message["actor"], message["role"]), record)
        except Exception:  # a poison entry must not block its partition; it was stored and audited on arrival
            logger.exception("streamed observation %s could not be processed", entry_id.decode())
        self.client.xack(stream, GROUP, entry_id)
        self.processed += 1

    def _consume(self, app: FastAPI) -> None:
        streams = [self.stream(p) for p in self.owned()]
        backlog = dict.fromkeys(streams, "0")  # first our unacknowledged entries (after a crash), then new ones
        while not self._stop.is_set():
            try:
                ids = backlog or dict.fromkeys(streams, ">")
                replies = self.client.xreadgroup(GROUP, self.consumer, ids, count=100, block=None if backlog else 200)
                if backlog and all(not entries for _, entries in replies or []):
                    backlog = {}
                for stream, entries in replies or []:
                    for entry_id, fields in entries:
                        self._handle(app, stream, entry_id, fields)
            except Exception:  # keep consuming through a broker restart
                if self._stop.is_set():
                    break
                logger.exception("partition consumer error; retrying")
                self._stop.wait(1.0)

    def start(self, app: FastAPI) -> "PartitionedBus":
        """Create the consumer groups and consume this worker's partitions on a background thread."""
        self._ensure_groups()
        self._thread = threading.Thread(target=self._consume, args=(app,), name=f"medai-partitions-{self.worker}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop consuming (entries not yet processed stay in the streams for the next owner)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.client.close()

    def backlog(self) -> int:
        """Entries of this worker's partitions not yet acknowledged (delivered or not)."""
        total = 0
        for partition in self.owned():
            for group in self.client.xinfo_groups(self.stream(partition)):
                if group["name"].decode() == GROUP:
                    total += int(group.get("lag") or 0) + int(group["pending"])
        return total


def install_partitioning(app: FastAPI, url: str, worker: int = 0, workers: int = 1, partitions: int = 64,
                         prefix: str = "medai:observations") -> PartitionedBus:
    """Route the app's streamed Observations through the patient-partitioned bus and start consuming.

    The consumer is a daemon thread; call ``bus.stop()`` on shutdown (unacknowledged entries are re-read on restart).
    """
    bus = PartitionedBus(url, worker, workers, partitions, prefix).start(app)
    app.state.observation_bus = bus
    return bus
