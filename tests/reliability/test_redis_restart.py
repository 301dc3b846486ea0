"""Redis restarted during a load: producers and workers reconnect, nothing acknowledged is lost.

The test runs its own durable Redis (append-only file, fsync always) on a private port and
restarts it; the machine's Redis is not touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peewee import Database

from store import AssignmentRequest, Review
from store.enums import RequestStatus, ReviewState
from tests.builders import PG_URL, unfinished
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from workers.embedded_redis import EmbeddedRedis
from workers.supervisor import start_dramatiq

pytestmark = pytest.mark.e2e

SCRIPT = """
import sys
from store.db import connect_database
from tasks.producers import enqueue_assign_reviews
connect_database(sys.argv[1])
for n in range(int(sys.argv[2]), int(sys.argv[3])):
    strategy = {"type": "round_robin", "pool": ["a", "b"]}
    body = {"reviewIds": [f"r{n}"], "assignmentStrategy": strategy}
    print(enqueue_assign_reviews(body, idempotency_key=f"k{n}").id, flush=True)
"""


def produce(db_url: str, redis_url: str, first: int, last: int) -> list[int]:
    """A producer process: queue requests first..last-1, print their ids."""
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": db_url}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, db_url, str(first), str(last)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [int(line) for line in out.stdout.split()]


def wait_until_finished(ids: list[int], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while unfinished(ids) and time.monotonic() < deadline:
        time.sleep(0.2)


def test_a_redis_restart_mid_load_loses_no_request(pg_db: Database, tmp_path: Path) -> None:
    call = make_call()
    make_reviewer("a")
    make_reviewer("b")
    for n in range(40):
        make_review(make_proposal(call), f"r{n}")
    redis_server = EmbeddedRedis(tmp_path / "redis", durable=True).start()
    env = {"DATABASE_URL": PG_URL, "REDIS_URL": redis_server.url, "REVIEWQ_DATA_DIR": str(tmp_path)}
    with (tmp_path / "worker.log").open("wb") as log:
        worker = start_dramatiq(
            1, 2, env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        ids = produce(PG_URL, redis_server.url, 0, 2)
        wait_until_finished(ids)  # the worker is up and consuming
        os.killpg(worker.pid, signal.SIGSTOP)  # hold it while messages wait in Redis
        ids += produce(PG_URL, redis_server.url, 2, 20)
        waiting_at_restart = unfinished(ids)
        redis_server.stop()
        redis_server = EmbeddedRedis(tmp_path / "redis", port=redis_server.port, durable=True)
        redis_server.start()
        os.killpg(worker.pid, signal.SIGCONT)  # its connections are dead: it must reconnect
        ids += produce(PG_URL, redis_server.url, 20, 40)
        wait_until_finished(ids)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        redis_server.stop()

    assert waiting_at_restart == 18
    assert len(ids) == 40
    statuses = [r.status for r in AssignmentRequest.select().where(AssignmentRequest.id.in_(ids))]
    assert statuses.count(RequestStatus.SUCCEEDED) == 40
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 40
