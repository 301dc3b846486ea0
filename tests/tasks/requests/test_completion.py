"""The completion signal of a queued request (tasks/requests/completion.py) and the wait built on
it (lifecycle.wait_for_request), on real Redis and PostgreSQL: a waiter wakes as soon as the
request is announced, every waiter of one request wakes, a missed announcement costs one slice,
and without Redis the wait polls the store."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from peewee import Database, OperationalError

from store import AssignmentRequest, database
from store.clock import utcnow
from store.enums import RequestKind, RequestStatus
from tasks.errors import RequestFailedInternally
from tasks.messages import message_for
from tasks.requests import lifecycle
from tasks.requests.completion import DONE_TTL_SECONDS, announce_finished, done_key
from tasks.requests.handlers import HANDLERS
from tasks.requests.lifecycle import (
    process_request,
    record_gave_up,
    submit_request,
    wait_for_request,
)

BODY = {"reviewIds": ["no-such-review"], "assignmentStrategy": {"type": "specific"}}
#: With this slice, a waiter that returns sooner than it was woken by the announcement.
LONG_SLICE = 5.0


def queued(key: str = "k") -> AssignmentRequest:
    request, _created = submit_request(RequestKind.ASSIGN_REVIEWS, BODY, idempotency_key=key)
    return request


def finish(request: AssignmentRequest) -> None:
    """What a worker's commit does to the row (no announcement)."""
    AssignmentRequest.update(
        status=RequestStatus.SUCCEEDED, result={}, http_status=200, finished_at=utcnow()
    ).where(AssignmentRequest.id == request.id).execute()


@pytest.fixture
def waiters() -> Iterator[Callable[[AssignmentRequest], Future[float]]]:
    """Start a thread that waits for a request (its own connection); its future is the
    monotonic time the wait returned."""
    pool = ThreadPoolExecutor(4)

    def wait(request: AssignmentRequest) -> float:
        try:
            done = wait_for_request(request.uuid, timeout=30)
            assert done.status == RequestStatus.SUCCEEDED
            return time.monotonic()
        finally:
            database.close()

    def start(request: AssignmentRequest) -> Future[float]:
        future = pool.submit(wait, request)
        time.sleep(0.3)  # it has read the row and is listening
        assert not future.done()
        return future

    yield start
    pool.shutdown(wait=True)


def test_a_waiter_returns_as_soon_as_the_request_is_announced(
    pg_db: Database, redis_client: Any, waiters: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "WAIT_SLICE_SECONDS", LONG_SLICE)
    delays = []
    for round_ in range(5):
        request = queued(f"k{round_}")
        future = waiters(request)
        finish(request)
        announced = time.monotonic()
        announce_finished(request.uuid)
        returned = future.result(timeout=LONG_SLICE)
        assert returned - announced < LONG_SLICE / 2, "woken by the slice, not the announcement"
        delays.append(returned - announced)
    assert statistics.median(delays) < 0.1, delays


def test_every_waiter_of_one_request_wakes(
    pg_db: Database, redis_client: Any, waiters: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "WAIT_SLICE_SECONDS", LONG_SLICE)
    request = queued()
    futures = [waiters(request) for _ in range(3)]
    finish(request)
    announced = time.monotonic()
    announce_finished(request.uuid)
    returned = [future.result(timeout=LONG_SLICE) for future in futures]
    assert max(returned) - announced < LONG_SLICE / 2, "a waiter was left to its slice"
    assert redis_client.llen(done_key(request.uuid)) == 1, "the token is left for later waiters"


def test_a_missed_announcement_costs_at_most_one_slice(
    pg_db: Database, redis_client: Any, waiters: Any
) -> None:
    request = queued()
    future = waiters(request)
    finish(request)
    finished = time.monotonic()
    returned = future.result(timeout=5)
    assert returned - finished < lifecycle.WAIT_SLICE_SECONDS + 0.5


def test_with_redis_down_the_wait_polls_the_store(
    pg_db: Database, unreachable_broker: Any, waiters: Any
) -> None:
    request = queued()
    future = waiters(request)
    finish(request)
    announce_finished(request.uuid)  # logs, never raises
    finished = time.monotonic()
    assert future.result(timeout=5) - finished < lifecycle.MAX_POLL_SECONDS + 0.5


def test_with_a_stub_broker_nothing_is_announced_and_the_wait_polls_the_store(
    pg_db: Database, stub_broker: Any, redis_client: Any, waiters: Any
) -> None:
    request = queued()
    future = waiters(request)
    finish(request)
    announce_finished(request.uuid)
    finished = time.monotonic()
    assert future.result(timeout=5) - finished < lifecycle.MAX_POLL_SECONDS + 0.5
    assert redis_client.keys("*") == []


def test_the_token_expires(pg_db: Database, redis_client: Any) -> None:
    request = queued()
    announce_finished(request.uuid)
    assert redis_client.lrange(done_key(request.uuid), 0, -1) == [b"1"]
    assert 0 < redis_client.ttl(done_key(request.uuid)) <= DONE_TTL_SECONDS


def test_nothing_is_announced_inside_a_transaction(pg_db: Database, redis_client: Any) -> None:
    request = queued()
    with database.atomic():
        announce_finished(request.uuid)
    assert redis_client.exists(done_key(request.uuid)) == 0


def test_running_a_request_announces_it_each_time_it_is_run(
    pg_db: Database, redis_client: Any
) -> None:
    request = queued()
    kind = RequestKind.ASSIGN_REVIEWS
    outcome = process_request(kind, message_for(request), HANDLERS[kind])
    assert outcome is not None and outcome.status == RequestStatus.FAILED
    assert redis_client.llen(done_key(request.uuid)) == 1
    assert process_request(kind, message_for(request), HANDLERS[kind]) is None
    assert redis_client.llen(done_key(request.uuid)) == 2


def test_a_request_run_with_a_database_error_is_not_announced(
    pg_db: Database, redis_client: Any
) -> None:
    request = queued()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("the database went away")

    with pytest.raises(OperationalError):
        process_request(RequestKind.ASSIGN_REVIEWS, message_for(request), broken)
    assert redis_client.exists(done_key(request.uuid)) == 0


def test_giving_up_on_a_request_announces_it(pg_db: Database, redis_client: Any) -> None:
    by_id, by_key = queued("a"), queued("b")
    assert record_gave_up(message_for(by_id), RequestFailedInternally())
    assert record_gave_up({"request": BODY, "idempotency_key": "b"}, RequestFailedInternally())
    assert redis_client.llen(done_key(by_id.uuid)) == 1
    assert redis_client.llen(done_key(by_key.uuid)) == 1
    assert not record_gave_up(message_for(by_id), RequestFailedInternally())
    assert redis_client.llen(done_key(by_id.uuid)) == 1


def test_a_wait_returns_at_once_for_a_finished_request(pg_db: Database, redis_client: Any) -> None:
    request = queued()
    finish(request)
    started = time.monotonic()
    assert wait_for_request(request.uuid, timeout=5).status == RequestStatus.SUCCEEDED
    assert time.monotonic() - started < 0.5


def test_a_wait_times_out_on_time(pg_db: Database, redis_client: Any) -> None:
    request = queued()
    started = time.monotonic()
    with pytest.raises(lifecycle.RequestTimeout):
        wait_for_request(request.uuid, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 1.0
