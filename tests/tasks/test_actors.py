"""The assign_reviews actor on a StubBroker: validation, retries, failure recording."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from peewee import Database, OperationalError

from store import AssignmentRequest, Review
from store.enums import RequestKind, RequestStatus, ReviewState
from tasks import actors
from tasks.messages import message_for
from tasks.requests.lifecycle import process_request, submit_request
from tests.factories import make_call, make_proposal, make_review, make_reviewer


@pytest.fixture
def stub_worker(stub_broker: StubBroker) -> Iterator[Worker]:
    worker = Worker(stub_broker, worker_timeout=50, worker_threads=2, queues={"assignments"})
    worker.start()
    yield worker
    worker.stop()


def queue_request(body: Any) -> AssignmentRequest:
    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, body)
    actors.assign_reviews.send(message_for(request))
    return request


def drain(broker: StubBroker, worker: Worker) -> None:
    broker.join("assignments", fail_fast=False)
    worker.join()


@pytest.fixture
def two_reviews(sqlite_db: Database) -> None:
    call = make_call()
    make_reviewer("alice")
    make_review(make_proposal(call), "r1")
    make_review(make_proposal(call), "r2")


BODY = {
    "reviewIds": ["r1", "r2"],
    "assignmentStrategy": {"type": "specific", "assignTo": ["alice"]},
}


def test_the_actor_assigns_and_queues_one_delivery_after_commit(
    two_reviews: None, stub_broker: StubBroker, stub_worker: Worker
) -> None:
    request = queue_request(BODY)
    drain(stub_broker, stub_worker)
    assert AssignmentRequest.get_by_id(request.id).status == RequestStatus.SUCCEEDED
    assert stub_broker.queues["mail"].qsize() == 1


def test_a_malformed_message_fails_at_once_and_is_not_retried(
    two_reviews: None,
    stub_broker: StubBroker,
    stub_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = process_request

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(actors, "process_request", counted)
    request = queue_request({"reviewIds": "r1"})
    drain(stub_broker, stub_worker)
    stored = AssignmentRequest.get_by_id(request.id)
    assert stored.status == RequestStatus.FAILED
    assert stored.result["error"]["code"] == "VALIDATION_ERROR"
    assert len(calls) == 1
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 0


def test_a_transient_database_error_is_retried_until_it_succeeds(
    two_reviews: None,
    stub_broker: StubBroker,
    stub_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[int] = []
    real = process_request

    def flaky(*args: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args)

    monkeypatch.setattr(actors, "process_request", flaky)
    request = queue_request(BODY)
    drain(stub_broker, stub_worker)
    assert len(attempts) == 2
    assert AssignmentRequest.get_by_id(request.id).status == RequestStatus.SUCCEEDED


def test_a_request_whose_retries_run_out_is_recorded_as_failed(
    two_reviews: None,
    stub_broker: StubBroker,
    stub_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any) -> Any:
        raise OperationalError("database is gone")

    monkeypatch.setattr(actors, "process_request", broken)
    # The retries run out at once (retry_when, not max_retries, decides for request actors).
    monkeypatch.setitem(actors.assign_reviews.actor.options, "retry_when", lambda *_: False)
    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, BODY)
    actors.assign_reviews.send(message_for(request))
    drain(stub_broker, stub_worker)
    stored = AssignmentRequest.get_by_id(request.id)
    assert stored.status == RequestStatus.FAILED
    assert stored.result["error"]["code"] == "INTERNAL_ERROR"


def test_only_infrastructure_errors_are_retried_and_only_so_many_times() -> None:
    from workers.broker import retry_transient

    retry_when = retry_transient(2)
    assert retry_when(0, OperationalError("server closed the connection"))
    assert retry_when(1, ConnectionError("redis"))
    assert not retry_when(2, OperationalError("still down"))
    assert not retry_when(0, TypeError("assign_reviews() got an unexpected keyword"))
    assert not retry_when(0, KeyError("a bug"))
