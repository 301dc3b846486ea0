"""Idle latency of the queue: how long a message waits for an idle worker, and a caller for its
result, through real `dramatiq` worker processes on PostgreSQL and Redis.

    .venv/bin/python bench/wake_bench.py                      # 20 sends, 2.5 s idle before each
    .venv/bin/python bench/wake_bench.py --sends 40 --idle 3 --processes 1 --threads 2

Each send follows an idle pause long enough for the worker's consumers to reach their longest
back-off. For every send it records:
- start: from `send` to the actor's start (the request row's `started_at`, written by the
  worker right after it read the row);
- wake: from the request's `finished_at` (the worker's commit) to `wait_for_request` returning
  it in this process (the completion signal, or the store's polling);
- done: from `send` to `wait_for_request` returning the finished request (what
  `POST /v1/reviews/assign` waits for).

The request names a review that does not exist, so the actor fails it at once (REVIEWS_NOT_FOUND):
the figures are the queue's and the wait's, not the assignment's. The database (dedicated,
created if missing) is rebuilt and the Redis database flushed at the start and at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgresql://postgres@127.0.0.1:5432/reviewq_bench_wake"
REDIS_URL = "redis://127.0.0.1:6379/6"
BODY = {"reviewIds": ["no-such-review"], "assignmentStrategy": {"type": "specific"}}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def running_worker(args: argparse.Namespace) -> Iterator[None]:
    """A `dramatiq` command (its own process group) for the duration of the block."""
    from workers.supervisor import start_dramatiq

    env = {"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url}
    with tempfile.TemporaryDirectory() as log_dir, Path(log_dir, "worker.log").open("wb") as log:
        worker = start_dramatiq(
            args.processes, args.threads, env, start_new_session=True, stdout=log, stderr=log
        )
        try:
            yield
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


def _one(index: int) -> tuple[float, float, float]:
    """Send one request and wait for it: ms to the actor's start, from the worker's finish to
    the wait's return, and to the wait's return."""
    from store.enums import RequestKind
    from tasks.actors import assign_reviews
    from tasks.messages import message_for
    from tasks.requests.lifecycle import submit_request, wait_for_request

    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY, idempotency_key=f"wake-{index}")
    sent = time.time()
    assign_reviews.send(message_for(request))
    done: Any = wait_for_request(request.uuid, timeout=30)
    finished = time.time()
    started = done.started_at.replace(tzinfo=UTC).timestamp()
    committed = done.finished_at.replace(tzinfo=UTC).timestamp()
    return (started - sent) * 1000, (finished - committed) * 1000, (finished - sent) * 1000


def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    """The latencies (ms) of `args.sends` sends, each after `args.idle` s idle."""
    figures: dict[str, list[float]] = {"start": [], "wake": [], "done": []}
    _one(-1)  # warm-up: the worker has booted and the connections are open
    for index in range(args.sends):
        time.sleep(args.idle)
        for name, value in zip(figures, _one(index), strict=True):
            figures[name].append(value)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=20)
    parser.add_argument("--idle", type=float, default=2.5, help="seconds idle before each send")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url

    import redis

    from store.db import connect_database, create_postgres_database
    from store.migrations import drop_everything, migrate

    create_postgres_database(args.database_url)
    connect_database(args.database_url)
    drop_everything()
    migrate()
    client = redis.Redis.from_url(args.redis_url)
    client.flushdb()
    with running_worker(args):
        figures = measure(args)
    client.flushdb()
    drop_everything()
    shape = f"worker {args.processes}x{args.threads}"
    print(f"{args.sends} sends, {args.idle} s idle before each, {shape}")
    for name, values in figures.items():
        p50, p95 = _percentile(values, 0.5), _percentile(values, 0.95)
        mean = statistics.fmean(values)
        print(
            f"{name:>5}: p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  mean {mean:7.1f} ms"
            f"  max {max(values):7.1f} ms"
        )


if __name__ == "__main__":
    main()
