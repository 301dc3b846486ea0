"""A worker SIGKILLed in the middle of a load: its messages come back within a minute."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import AssignmentRequest, Notification, Review
from store.enums import RequestStatus, ReviewState
from tasks.producers import enqueue_assign_reviews
from tests.builders import PG_URL, REDIS_URL, unfinished
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from workers.redis_keys import QUEUE_NAMESPACE
from workers.supervisor import start_dramatiq

pytestmark = pytest.mark.e2e


def start_worker(tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = {"DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, "REVIEWQ_DATA_DIR": str(tmp_path)}
    with (tmp_path / f"{name}.log").open("wb") as log:
        return start_dramatiq(
            1, 1, env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )


def test_a_killed_workers_messages_are_redelivered_and_each_request_completes_once(
    pg_db: Database, redis_client: Any, tmp_path: Path
) -> None:
    call = make_call()
    reviewers = [make_reviewer(f"u{i}") for i in range(5)]
    pool = [r.external_id for r in reviewers]
    ids = []
    first = start_worker(tmp_path, "first")
    for n in range(40):
        reviews = [make_review(make_proposal(call), f"r{n}_{k}").external_id for k in range(3)]
        body = {
            "reviewIds": reviews,
            "assignmentStrategy": {"type": "round_robin", "pool": pool, "maxPerReviewer": 30},
        }
        ids.append(enqueue_assign_reviews(body, idempotency_key=f"load-{n}").id)

    deadline = time.monotonic() + 60
    while unfinished(ids) == len(ids) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    acks = [
        k for k in redis_client.scan_iter(f"{QUEUE_NAMESPACE}:__acks__.*") if redis_client.scard(k)
    ]
    assert acks, "the killed worker held no message: the test proves nothing"
    assert unfinished(ids) > 0

    killed_at = time.monotonic()
    second = start_worker(tmp_path, "second")
    try:
        while unfinished(ids) and time.monotonic() - killed_at < 90:
            time.sleep(0.5)
        recovered_after = time.monotonic() - killed_at
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    assert unfinished(ids) == 0
    assert recovered_after <= 60, f"messages came back after {recovered_after:.0f} s"
    statuses = {r.status for r in AssignmentRequest.select().where(AssignmentRequest.id.in_(ids))}
    assert statuses == {RequestStatus.SUCCEEDED}
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 120
    assert Notification.select().count() == len({(n.dedupe_key) for n in Notification.select()})
    for reviewer in reviewers:
        assert Review.select().where(Review.reviewer == reviewer).count() <= 30
