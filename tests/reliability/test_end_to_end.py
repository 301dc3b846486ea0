"""End to end: a producer, real Redis, real `dramatiq` worker processes, PostgreSQL, real SMTP."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import AssignmentRequest, Notification, Review
from store.enums import NotificationStatus, RequestStatus, ReviewState
from store.workload import workloads
from tasks.errors import IdempotencyKeyMismatch
from tasks.producers import enqueue_assign_reviews
from tasks.requests.lifecycle import wait_for_request
from tests.builders import PG_URL, REDIS_URL, CollectingHandler, stop_process_group
from tests.factories import (
    give_in_review,
    make_affinity,
    make_call,
    make_conflict,
    make_proposal,
    make_review,
    make_reviewer,
)
from workers.supervisor import start_dramatiq

pytestmark = pytest.mark.e2e


@pytest.fixture
def workers(
    pg_db: Database, redis_client: Any, smtp_server: tuple[str, CollectingHandler], tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "SMTP_URL": smtp_server[0],
        "REVIEWQ_DATA_DIR": str(tmp_path),
    }
    log = (tmp_path / "worker.log").open("wb")
    proc = start_dramatiq(
        2,
        4,
        env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    yield proc
    stop_process_group(proc)
    log.close()


def wait_until(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_requests_flow_through_workers_into_assignments_and_emails(
    workers: subprocess.Popen[bytes], smtp_server: tuple[str, CollectingHandler]
) -> None:
    _, mailbox = smtp_server
    call = make_call()
    reviewers = [make_reviewer(f"user_{i:03d}", email=f"user{i}@example.org") for i in range(1, 7)]
    give_in_review(reviewers[0], make_proposal(call), 3)
    proposals = [make_proposal(call) for _ in range(12)]
    for i, proposal in enumerate(proposals):
        make_review(proposal, f"rev_{i:03d}")
        make_affinity(call, reviewers[i % 6], proposal, 0.9)
    make_conflict(call, reviewers[1], proposals[1])
    pool = [r.external_id for r in reviewers]

    load_balanced = {
        "reviewIds": [f"rev_{i:03d}" for i in range(3, 8)],
        "assignmentStrategy": {"type": "load_balanced", "pool": pool, "maxPerReviewer": 4},
    }
    requests = [
        enqueue_assign_reviews(
            {
                "reviewIds": ["rev_000", "rev_001", "rev_002"],
                "assignmentStrategy": {"type": "round_robin", "pool": pool[:3]},
            }
        ),
        enqueue_assign_reviews(load_balanced, idempotency_key="lb-1"),
        enqueue_assign_reviews(
            {
                "reviewIds": [f"rev_{i:03d}" for i in range(8, 12)],
                "assignmentStrategy": {"type": "expertise_based", "pool": pool},
            }
        ),
        enqueue_assign_reviews({"reviewIds": ["rev_000"], "assignmentStrategy": {"type": "nope"}}),
    ]
    duplicate = enqueue_assign_reviews(load_balanced, idempotency_key="lb-1")
    assert duplicate.id == requests[1].id
    other = {
        "reviewIds": ["rev_003"],
        "assignmentStrategy": {"type": "specific", "assignTo": ["u"]},
    }
    with pytest.raises(IdempotencyKeyMismatch):  # the key belongs to the first body
        enqueue_assign_reviews(other, idempotency_key="lb-1")

    done = [wait_for_request(r.uuid, timeout=60) for r in requests]
    assert [r.status for r in done] == [RequestStatus.SUCCEEDED] * 3 + [RequestStatus.FAILED]
    assert done[3].result["error"]["code"] == "INVALID_STRATEGY"

    round_robin = done[0].result
    # rev_001's proposal conflicts with user_002: the rotation skips it and goes on after user_003.
    assert [a["assignedTo"] for a in round_robin["assignments"]] == [
        "user_001",
        "user_003",
        "user_001",
    ]
    expertise = done[2].result
    assert [a["assignedTo"] for a in expertise["assignments"]] == [
        "user_003",
        "user_004",
        "user_005",
        "user_006",
    ]
    assert (
        Review.select()
        .where(Review.state == ReviewState.IN_REVIEW, Review.external_id.is_null(False))
        .count()
        == 12
    )
    loads = workloads([r.id for r in reviewers])
    assert loads[reviewers[0].id] <= 4 + 1  # 3 before, capped at 4 by load_balanced, +1 round robin
    assert AssignmentRequest.select().count() == 4

    notified = {(n.recipient, n.dedupe_key.split(":")[1]) for n in Notification.select()}
    wait_until(lambda: len(mailbox.messages) >= len(notified))
    time.sleep(1.0)  # nothing more arrives: each notification once
    assert len(mailbox.messages) == len(notified)
    assert Notification.select().where(Notification.status != NotificationStatus.SENT).count() == 0
    recipients = sorted(str(m["To"]) for m in mailbox.messages)
    assert any("user1@example.org" in r for r in recipients)
