"""Heartbeats: each worker process and each scheduler says it is alive, and what it did lately,
in a Redis key with a TTL (workers/redis_keys.py's HEARTBEAT_PREFIX); `reviewq stats` reads them.

A worker process publishes every HEARTBEAT_SECONDS from a thread of its own (`WorkerHeartbeat`,
a dramatiq middleware): its host, pid, queues, when it started, how many messages it finished
in the last minute and in all. A process that dies stops renewing its key, which expires after
HEARTBEAT_TTL_SECONDS.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy

from workers.redis_keys import HEARTBEAT_PREFIX

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TTL_SECONDS = 15
WINDOW_SECONDS = 60.0


def publish(client: redis.Redis, kind: str, ident: str, value: dict[str, Any]) -> None:
    """Say that `kind` process `ident` is alive, with `value`, for HEARTBEAT_TTL_SECONDS."""
    payload = {**value, "seen_at": datetime.now(UTC).isoformat()}
    client.set(f"{HEARTBEAT_PREFIX}{kind}:{ident}", json.dumps(payload), ex=HEARTBEAT_TTL_SECONDS)


def forget(client: redis.Redis, kind: str, ident: str) -> None:
    client.delete(f"{HEARTBEAT_PREFIX}{kind}:{ident}")


def live(client: redis.Redis, kind: str) -> list[dict[str, Any]]:
    """The heartbeats of every live `kind` process, each with its `id`."""
    keys = sorted(client.scan_iter(match=f"{HEARTBEAT_PREFIX}{kind}:*", count=500))
    values = client.mget(keys) if keys else []
    found = []
    for key, raw in zip(keys, values, strict=True):
        if raw is None:
            continue  # expired between the scan and the read
        name = key.decode() if isinstance(key, bytes) else str(key)
        found.append({"id": name.removeprefix(f"{HEARTBEAT_PREFIX}{kind}:"), **json.loads(raw)})
    return found


class WorkerHeartbeat(dramatiq.Middleware):
    """Publishes this worker process's heartbeat while it runs (see the module docstring)."""

    def __init__(self) -> None:
        self._finished: deque[float] = deque()
        self._total = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = datetime.now(UTC).isoformat()
        self._ident = f"{socket.gethostname()}:{os.getpid()}"

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        client = getattr(broker, "client", None)
        if not isinstance(client, redis.Redis):
            return  # a StubBroker: nobody to tell
        self._ident = f"{socket.gethostname()}:{os.getpid()}"
        consumed = worker.consumer_whitelist or broker.get_declared_queues()
        queues = sorted(q for q in consumed if not q.endswith((".DQ", ".XQ")))
        thread = threading.Thread(
            target=self._beat, args=(client, queues), name="reviewq-heartbeat", daemon=True
        )
        thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        client = getattr(broker, "client", None)
        if isinstance(client, redis.Redis):
            with contextlib.suppress(redis.RedisError):  # else the key expires on its own
                forget(client, "worker", self._ident)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        now = time.monotonic()
        with self._lock:
            self._finished.append(now)
            self._total += 1

    def last_minute(self) -> int:
        horizon = time.monotonic() - WINDOW_SECONDS
        with self._lock:
            while self._finished and self._finished[0] < horizon:
                self._finished.popleft()
            return len(self._finished)

    def _beat(self, client: redis.Redis, queues: list[str]) -> None:
        host, pid = self._ident.rsplit(":", 1)
        while not self._stop.is_set():
            value = {
                "host": host,
                "pid": int(pid),
                "queues": queues,
                "started_at": self._started,
                "processed_last_minute": self.last_minute(),
                "processed_total": self._total,
            }
            try:
                publish(client, "worker", self._ident, value)
            except redis.RedisError as exc:
                logger.warning("heartbeat not published: %s", exc)
            self._stop.wait(HEARTBEAT_SECONDS)
