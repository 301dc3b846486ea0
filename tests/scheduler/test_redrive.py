"""The `redrive_requests` job (#12, defect 2): requests and recorded messages whose enqueue was
lost are sent again, once per loss, and running them twice has one effect. SQLite and
PostgreSQL, with real Redis."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from peewee import Database

from scheduler.jobs import expire_batches, redrive_requests
from store import AssignmentItem, AssignmentRequest, OutboundMessage, Review
from store.clock import utcnow
from store.enums import ItemStatus, RequestKind, RequestStatus, ReviewState
from tasks.bulk.assign import assign_reviews
from tasks.messages import message_for
from tasks.requests.lifecycle import process_request, submit_request
from tests.builders import DAY, OPTIONS, free_port, run_scheduled
from tests.factories import (
    make_call,
    make_pool_entry,
    make_proposal,
    make_review,
    make_reviewer,
    make_sent_batch,
)
from workers.broker import build_broker, get_broker, set_broker
from workers.redis_keys import ASSIGNMENT_QUEUE, queue_key

BODY = {"reviewIds": ["r1"], "assignmentStrategy": {"type": "specific", "assignTo": ["alice"]}}
LATER = OPTIONS.request_redrive_after + timedelta(seconds=1)


def waiting(redis_client: Any) -> list[dict[str, Any]]:
    """The messages in the assignments queue's hash (waiting or being worked on), left there."""
    raw = redis_client.hvals(queue_key(ASSIGNMENT_QUEUE) + ".msgs")
    return [json.loads(data) for data in raw]


@pytest.fixture
def one_review(db: Database) -> None:
    make_reviewer("alice")
    make_review(make_proposal(make_call()), "r1")


def test_a_request_whose_message_never_reached_redis_is_sent_again_once_per_loss(
    one_review: None, redis_client: Any
) -> None:
    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY)  # its send was lost
    start = utcnow()

    assert redrive_requests(start, OPTIONS).counts["requests"] == 0  # too young
    assert redrive_requests(start + LATER, OPTIONS).counts["requests"] == 1
    assert [m["args"][0]["request_id"] for m in waiting(redis_client)] == [str(request.uuid)]
    # Its message is live in Redis: not sent a second time.
    assert redrive_requests(start + 2 * LATER, OPTIONS).counts["requests"] == 0
    # Redis loses it (a restart without persistence): sent again.
    redis_client.flushdb()
    assert redrive_requests(start + 3 * LATER, OPTIONS).counts["requests"] == 1
    assert len(waiting(redis_client)) == 1


def test_a_running_request_is_sent_again_only_when_no_attempt_is_live(
    one_review: None, redis_client: Any
) -> None:
    live, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY, idempotency_key="live")
    orphan, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY, idempotency_key="orphan")
    started = utcnow()
    AssignmentRequest.update(status=RequestStatus.RUNNING, started_at=started).execute()
    # A worker holds `live`'s message (fetched, not acknowledged): it is in the queue's hash.
    message = {"request": BODY, "idempotency_key": "live"}  # as a foreign producer names it
    redis_client.hset(
        queue_key(ASSIGNMENT_QUEUE) + ".msgs",
        "held",
        json.dumps(
            {
                "queue_name": ASSIGNMENT_QUEUE,
                "actor_name": "assign_reviews",
                "args": [message],
                "kwargs": {},
                "options": {},
            }
        ),
    )

    report = redrive_requests(started + LATER, OPTIONS)

    assert report.counts["requests"] == 1
    sent = [m for m in waiting(redis_client) if m["options"].get("redis_message_id")]
    assert [m["args"][0]["request_id"] for m in sent] == [str(orphan.uuid)]
    assert live.id != orphan.id


def test_finished_requests_are_never_sent_again(one_review: None, redis_client: Any) -> None:
    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY)
    process_request(RequestKind.ASSIGN_REVIEWS, message_for(request), assign_reviews)
    assert AssignmentRequest.get_by_id(request.id).status == RequestStatus.SUCCEEDED

    assert redrive_requests(utcnow() + LATER, OPTIONS).counts["requests"] == 0
    assert waiting(redis_client) == []


def test_a_redriven_request_delivered_twice_runs_once_in_effect(
    one_review: None, redis_client: Any
) -> None:
    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY)
    redrive_requests(utcnow() + LATER, OPTIONS)
    [message] = waiting(redis_client)

    first = process_request(RequestKind.ASSIGN_REVIEWS, message["args"][0], assign_reviews)
    again = process_request(RequestKind.ASSIGN_REVIEWS, message["args"][0], assign_reviews)

    assert first is not None and first.status == RequestStatus.SUCCEEDED
    assert again is None
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 1
    assert AssignmentRequest.get_by_id(request.id).attempts == 1


def test_a_lost_reassignment_message_is_recorded_with_the_expiry_and_sent_again(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    call = make_call(auto_reassign_on_decline=True)
    first, second = make_reviewer(), make_reviewer()
    make_pool_entry(call, second)
    batch = make_sent_batch(call, now - DAY, reviewer=first)
    [item] = list(AssignmentItem.select().where(AssignmentItem.batch == batch.id))

    working = get_broker()
    set_broker(build_broker(f"redis://127.0.0.1:{free_port()}/0"))
    try:
        report = expire_batches(now, OPTIONS)  # Redis unreachable after the commit: send lost
    finally:
        set_broker(working)

    assert report.counts["items_expired"] == 1
    assert AssignmentItem.get_by_id(item.id).status == ItemStatus.EXPIRED
    [row] = list(OutboundMessage.select())
    assert row.sent_at is None

    redriven = redrive_requests(now + LATER, OPTIONS)

    assert redriven.counts["messages"] == 1
    assert OutboundMessage.get_by_id(row.id).sent_at is not None
    assert redrive_requests(now + 2 * LATER, OPTIONS).counts["messages"] == 0
    # The message delivered twice: one reassignment.
    raw = redis_client.hvals("reviewq:scheduled.msgs")
    redis_client.hset("reviewq:scheduled.msgs", "copy", raw[0])
    redis_client.rpush("reviewq:scheduled", "copy")
    assert run_scheduled(redis_client) == ["reassign_expired_items"] * 2
    assert AssignmentItem.get_by_id(item.id).status == ItemStatus.REASSIGNED
    assert AssignmentItem.select().where(AssignmentItem.reassigned_from == item.id).count() == 1


def test_run_once_runs_the_redrive(
    one_review: None, db_url: str, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.app import app
    from config import get_settings

    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY)
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        at = (utcnow() + LATER).isoformat() + "Z"
        out = CliRunner().invoke(
            app, ["scheduler", "run-once", "redrive_requests", "--now", at, "--json"]
        )
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["requests"] == 1
    assert [m["args"][0]["request_id"] for m in waiting(redis_client)] == [str(request.uuid)]
