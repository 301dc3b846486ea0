"""Input errors on the queue path (tasks/messages.py): each fails once, at once, as one
VALIDATION_ERROR recorded on a request row; only infrastructure errors are retried.

Raw messages go through the actor on a StubBroker worker, on PostgreSQL (where a NUL in a
string cannot even reach the database)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from dramatiq import Message, Middleware, Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout
from peewee import Database

from store import AssignmentRequest, Review
from store.enums import RequestStatus, ReviewState
from tests.factories import make_call, make_proposal, make_review, make_reviewer

BODY = {"reviewIds": ["r1"], "assignmentStrategy": {"type": "specific", "assignTo": ["alice"]}}


class Runs(Middleware):
    """Counts every run of a message (retries included)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def after_process_message(self, broker: Any, message: Any, **_: Any) -> None:
        self.counts[message.actor_name] += 1


@pytest.fixture
def runs(pg_db: Database, stub_broker: StubBroker) -> Iterator[Runs]:
    make_reviewer("alice")
    make_review(make_proposal(make_call()), "r1")
    counter = Runs()
    stub_broker.add_middleware(counter)
    worker = Worker(stub_broker, worker_timeout=50, worker_threads=1, queues={"assignments"})
    worker.start()
    yield counter
    worker.stop()


def run_raw(broker: StubBroker, args: list[Any], kwargs: dict[str, Any]) -> None:
    message: Message[Any] = Message(
        queue_name="assignments",
        actor_name="assign_reviews",
        args=tuple(args),
        kwargs=kwargs,
        options={},
    )
    broker.enqueue(message)
    with contextlib.suppress(QueueJoinTimeout):  # still retrying: the assertions say so
        broker.join("assignments", timeout=6000)


CASES: dict[str, tuple[list[Any], dict[str, Any], str]] = {
    "NUL in reviewIds": (
        [{"request": {**BODY, "reviewIds": ["r\x001"]}, "idempotency_key": "k1"}],
        {},
        "reviewIds.0",
    ),
    "deadline overflowing UTC": (
        [{"request": {**BODY, "deadline": "9999-12-31T23:59:59-12:00"}}],
        {},
        "deadline",
    ),
    "no argument": ([], {}, "args"),
    "two arguments": ([{"request": BODY}, {"request": BODY}], {}, "args"),
    "unknown keyword": ([{"request": BODY}], {"priority": "high"}, "kwargs.priority"),
    "NUL idempotency key": ([{"request": BODY, "idempotency_key": "k\x00"}], {}, "idempotency_key"),
    "NUL in a key of the body": ([{"request": {**BODY, "x\x00": 1}}], {}, "body"),
    "request_id of the wrong type": ([{"request": BODY, "request_id": 5}], {}, "request_id"),
    "message not an object": (["assign r1"], {}, "message"),
    "reviewIds of the wrong type": (
        [{"request": {**BODY, "reviewIds": "r1"}}],
        {},
        "reviewIds",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_input_error_fails_once_as_a_validation_error_on_a_request_row(
    case: str, runs: Runs, stub_broker: StubBroker
) -> None:
    args, kwargs, field = CASES[case]
    run_raw(stub_broker, args, kwargs)

    assert runs.counts["assign_reviews"] == 1, "run once, never retried"
    assert stub_broker.dead_letters == []
    rows = list(AssignmentRequest.select())
    assert len(rows) == 1
    (row,) = rows
    assert row.status == RequestStatus.FAILED
    assert row.http_status == 400
    assert row.result["error"]["code"] == "VALIDATION_ERROR"
    assert any(f == field or f.startswith(field + ".") for f in row.result["error"]["fields"]), (
        row.result["error"]
    )
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 0


def test_a_valid_raw_message_still_runs(runs: Runs, stub_broker: StubBroker) -> None:
    run_raw(stub_broker, [{"request": BODY, "idempotency_key": "ok"}], {})
    (row,) = AssignmentRequest.select()
    assert row.status == RequestStatus.SUCCEEDED
    assert runs.counts["assign_reviews"] == 1
