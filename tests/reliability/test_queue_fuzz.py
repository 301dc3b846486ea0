"""Property-based fuzzing of raw queue messages: hypothesis writes envelopes, bodies, types,
unicode, NUL, huge and deep values (and bytes that are no JSON at all), each is pushed onto the
real `assignments` queue as another program would, and a real worker runs it.

Each must end, at once and without retries, as exactly one recorded request that failed with a
domain error (VALIDATION_ERROR for bad input; never INTERNAL_ERROR) or as exactly one dead
letter with its reason; nothing else is written; the worker keeps consuming (a valid message
sent after the fuzzing runs). REVIEWQ_FUZZ_EXAMPLES sets the number of examples (default 40).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from peewee import Database

from store import AssignmentRequest, Notification, Review
from store.enums import RequestStatus, ReviewState
from tests.builders import PG_URL, REDIS_URL, stop_process_group
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from workers.admin import list_dead_letters
from workers.redis_keys import ASSIGNMENT_QUEUE, queue_key
from workers.supervisor import start_dramatiq

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

EXAMPLES = int(os.environ.get("REVIEWQ_FUZZ_EXAMPLES", "40"))
SETTLE_SECONDS = 15.0
QUEUE = queue_key(ASSIGNMENT_QUEUE)

texts = st.text(max_size=30) | st.sampled_from(["", "\x00", "a\x00b", "rev-1", "💥" * 10])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | texts
    | st.just("9999-12-31T23:59:59-12:00")
    | st.just("x" * 200_000)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
strategies = st.fixed_dictionaries(
    {"type": st.sampled_from(["specific", "round_robin", "load_balanced", "nope"]) | values},
    optional={
        "pool": st.lists(texts, max_size=4) | values,
        "assignTo": st.lists(texts, max_size=4) | values,
        "maxPerReviewer": st.integers() | values,
    },
)
bodies = values | st.fixed_dictionaries(
    {"reviewIds": st.lists(texts, max_size=4) | values, "assignmentStrategy": strategies | values},
    optional={
        "deadline": st.sampled_from(["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
        | values,
        "priority": st.sampled_from(["low", "high", "urgent"]) | values,
        "notifyReviewers": values,
    },
)
envelopes = st.fixed_dictionaries(
    {"request": bodies},
    optional={
        "idempotency_key": texts | values,
        "request_id": st.uuids().map(str) | texts | values,
        "extra": values,
    },
)
arguments = (
    st.tuples(envelopes).map(list)
    | st.lists(values, max_size=3)
    | st.tuples(envelopes, values).map(list)
)
messages = st.fixed_dictionaries(
    {
        "queue_name": st.just(ASSIGNMENT_QUEUE) | texts,
        "actor_name": st.sampled_from(["assign_reviews", "generate_assignments"]) | texts,
        "args": arguments | values,
        "kwargs": st.just({}) | st.dictionaries(texts, values, max_size=3) | values,
        "options": st.just({}) | st.dictionaries(texts, values, max_size=3),
        "message_id": st.uuids().map(str) | values,
        "message_timestamp": st.just(int(time.time() * 1000)) | values,
    }
)


def encode(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")


payloads = (
    messages.map(encode)
    | st.binary(max_size=200)
    | st.integers(1_000, 100_000).map(lambda n: b'{"args": ' + b"[" * n + b"]" * n + b"}")
    | values.map(encode)
)


BODY = {"reviewIds": ["rev-1"], "assignmentStrategy": {"type": "specific", "assignTo": ["alice"]}}


def raw(args: Any, **fields: Any) -> bytes:
    """A message for `assign_reviews` with these args (and other fields)."""
    message = {
        "queue_name": ASSIGNMENT_QUEUE,
        "actor_name": "assign_reviews",
        "args": args,
        "kwargs": {},
        "options": {},
        "message_id": str(uuid.uuid4()),
        "message_timestamp": int(time.time() * 1000),
        **fields,
    }
    return encode(message)


@pytest.fixture
def worker(pg_db: Database, redis_client: Any, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {"DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, "REVIEWQ_DATA_DIR": str(tmp_path)}
    with (tmp_path / "worker.log").open("wb") as log:
        proc = start_dramatiq(1, 2, env, start_new_session=True, stdout=log, stderr=log)
    yield proc
    stop_process_group(proc)


def queue_idle(client: Any) -> bool:
    """Nothing ready, delayed (a retry) or fetched and unacknowledged on the queue."""
    in_acks = sum(int(client.scard(k)) for k in client.scan_iter("reviewq:__acks__.*"))
    return not client.llen(QUEUE) and not client.zcard(f"{QUEUE}.DQ") and not in_acks


def outcome_of(client: Any, payload: bytes, before: tuple[int, int]) -> tuple[int, int]:
    """Push `payload`; wait until it ended as a request or a dead letter and the queue is
    idle; returns (new requests, new dead letters)."""
    redis_id = f"fuzz-{uuid.uuid4()}"
    client.hset(f"{QUEUE}.msgs", redis_id, payload)
    client.rpush(QUEUE, redis_id)
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        counts = (AssignmentRequest.select().count(), len(list_dead_letters(client)))
        finished = (
            AssignmentRequest.select()
            .where(AssignmentRequest.status.in_([RequestStatus.QUEUED, RequestStatus.RUNNING]))
            .count()
            == 0
        )
        if counts != before and finished and queue_idle(client):
            return counts[0] - before[0], counts[1] - before[1]
        time.sleep(0.05)
    raise AssertionError(
        f"not settled in {SETTLE_SECONDS} s (retried as if transient, or lost): {payload[:300]!r}"
    )


def test_every_raw_message_ends_as_one_failed_request_or_one_dead_letter(
    worker: subprocess.Popen[bytes], redis_client: Any
) -> None:
    make_reviewer("alice")
    review = make_review(make_proposal(make_call()), "rev-1", state=ReviewState.SUBMITTED)
    seen = {"requests": 0, "dead": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        phases=[Phase.explicit, Phase.generate],  # a failing example takes 15 s: no shrinking
    )
    @given(payload=payloads)
    @example(payload=raw([]))  # args=[]: a TypeError, once retried as if transient
    @example(payload=raw([{"request": BODY}], kwargs={"unknown": 1}))
    @example(payload=raw([{"request": BODY, "idempotency_key": "a\x00b"}]))
    @example(payload=raw([{"request": {**BODY, "reviewIds": ["rev\x00-1"]}}]))
    @example(payload=raw([{"request": {**BODY, "deadline": "9999-12-31T23:59:59-12:00"}}]))
    @example(payload=b"[" * 100_000 + b"]" * 100_000)
    @example(payload=b"\xff\xfe not utf-8")
    @example(payload=raw([{"request": None}], queue_name=""))  # not the queue it was on
    def one(payload: bytes) -> None:
        before = (AssignmentRequest.select().count(), len(list_dead_letters(redis_client)))
        new_requests, new_dead = outcome_of(redis_client, payload, before)

        assert (new_requests, new_dead) in ((1, 0), (0, 1)), payload[:300]
        if new_requests:
            request = AssignmentRequest.select().order_by(AssignmentRequest.id.desc()).get()
            assert request.status == RequestStatus.FAILED, payload[:300]
            assert request.attempts <= 1
            assert request.error["code"] != "INTERNAL_ERROR", (request.error, payload[:300])
            seen["requests"] += 1
        else:
            letter = list_dead_letters(redis_client)[-1]
            assert letter.reason.strip(), payload[:300]
            seen["dead"] += 1
        # nothing half-written
        assert Review.get_by_id(review.id).state == ReviewState.SUBMITTED
        assert Notification.select().count() == 0
        assert worker.poll() is None, "the worker died"

    one()

    assert seen["requests"] and seen["dead"], seen
    canary = raw([{"request": BODY, "idempotency_key": "canary"}])
    before = (AssignmentRequest.select().count(), len(list_dead_letters(redis_client)))
    assert outcome_of(redis_client, canary, before) == (1, 0)
    ran = AssignmentRequest.get(AssignmentRequest.idempotency_key == "canary")
    assert ran.status == RequestStatus.SUCCEEDED
    assert ran.result["failed"] == 1  # rev-1 is submitted: refused by name, not a crash
