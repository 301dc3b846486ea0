"""Poison and foreign messages pushed raw onto the real Redis queue, run by a real worker
(workers/wire.py): undecodable payloads go to the dead letters with their reason, the valid
messages fetched with them run, and every message is acknowledged by its Redis id. And the
wake-up: an idle consumer fetches as soon as a message is enqueued, a message without a wake
token still runs within the back-off, and dramatiq's heartbeat and maintenance still bring back a
dead worker's messages."""

from __future__ import annotations

import json
import os
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import dramatiq
import pytest
from peewee import Database

from store import AssignmentRequest
from store.enums import RequestKind, RequestStatus
from tasks.actors import assign_reviews
from tasks.messages import message_for
from tasks.requests.lifecycle import submit_request, wait_for_request
from tests.builders import REDIS_URL
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from tests.workers.conftest import StartWorker
from workers.admin import list_dead_letters
from workers.broker import build_broker
from workers.redis_keys import ASSIGNMENT_QUEUE, dq_name, queue_key, wake_key, xq_name
from workers.wire import WAKE_TOKENS, WAKE_TTL_MS, IdentifyingConsumer

pytestmark = pytest.mark.e2e

POISON = {
    "not-json": b"this is not json",
    "not-utf8": b"\xff\xfe\x00garbage",
    "too-deep": b"[" * 200_000 + b"]" * 200_000,
    "an-array": b"[1, 2, 3]",
    "no-actor": json.dumps({"queue_name": "assignments", "args": [], "kwargs": {}}).encode(),
}


def raw_message(key: str, *, with_redis_id: str | None) -> dict[str, Any]:
    """A message as a producer in another language writes it (README, Producers)."""
    body = {
        "reviewIds": [key],
        "assignmentStrategy": {"type": "specific", "assignTo": ["alice"]},
    }
    options: dict[str, Any] = {}
    if with_redis_id is not None:
        options["redis_message_id"] = with_redis_id
    return {
        "queue_name": ASSIGNMENT_QUEUE,
        "actor_name": "assign_reviews",
        "args": [{"request": body, "idempotency_key": f"raw-{key}"}],
        "kwargs": {},
        "options": options,
        "message_id": str(uuid.uuid4()),
        "message_timestamp": int(time.time() * 1000),
    }


def push(client: Any, redis_id: str, payload: bytes) -> None:
    client.hset(queue_key(ASSIGNMENT_QUEUE) + ".msgs", redis_id, payload)
    client.rpush(queue_key(ASSIGNMENT_QUEUE), redis_id)


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


def test_poison_is_dead_lettered_and_the_messages_fetched_with_it_run(
    pg_db: Database, redis_client: Any, start_worker: StartWorker
) -> None:
    call = make_call()
    make_reviewer("alice")
    keys = [f"r{i}" for i in range(6)]
    for key in keys:
        make_review(make_proposal(call), key)
    # Poison first, then valid messages with and without options.redis_message_id, so the one
    # worker's first fetch takes them together.
    for name, payload in POISON.items():
        push(redis_client, f"poison-{name}", payload)
    for i, key in enumerate(keys):
        redis_id = f"valid-{key}"
        message = raw_message(key, with_redis_id=redis_id if i % 2 else None)
        push(redis_client, redis_id, json.dumps(message).encode())

    start_worker(processes=1, threads=2)

    def all_done() -> bool:
        done = AssignmentRequest.select().where(AssignmentRequest.status == RequestStatus.SUCCEEDED)
        return int(done.count()) == len(keys)

    assert wait_for(all_done, 40), [
        (r.idempotency_key, r.status) for r in AssignmentRequest.select()
    ]
    assert [r.attempts for r in AssignmentRequest.select()] == [1] * len(keys)

    dead = {letter.redis_id: letter for letter in list_dead_letters(redis_client)}
    assert set(dead) == {f"poison-{name}" for name in POISON}
    assert "not JSON" in dead["poison-not-json"].reason
    assert "recursion limit" in dead["poison-too-deep"].reason
    assert "UTF-8" in dead["poison-not-utf8"].reason
    assert "actor_name: missing" in dead["poison-no-actor"].reason
    # The dead letter keeps the payload exactly as it was pushed.
    stored = redis_client.hget(queue_key(xq_name(ASSIGNMENT_QUEUE)) + ".msgs", "poison-not-utf8")
    assert stored == POISON["not-utf8"]

    # Every valid message was acknowledged by its Redis id (with or without the option): none
    # is left in the queue's hash or in an ack set, so a restart cannot run it again.
    def acknowledged() -> bool:
        pending = redis_client.hlen(queue_key(ASSIGNMENT_QUEUE) + ".msgs")
        in_acks = sum(redis_client.scard(k) for k in redis_client.keys("reviewq:__acks__.*"))
        return int(pending) == 0 and int(in_acks) == 0

    assert wait_for(acknowledged, 10)


# --- waking an idle consumer -------------------------------------------------------------------

#: A consumer this idle waits its longest back-off (half to all of the 1 s worker timeout).
IDLE_MISSES = 20
#: Far below the shortest longest back-off (0.5 s), well above a wake-up on a loaded machine.
WOKEN_WITHIN = 0.4


@pytest.fixture
def broker(redis_client: Any) -> Iterator[Any]:
    """A production broker on the test Redis (not the process's)."""
    broker = build_broker(REDIS_URL)
    yield broker
    broker.close()


def idle_consumer(broker: Any, prefetch: int = 2) -> IdentifyingConsumer:
    consumer: IdentifyingConsumer = broker.consume(
        ASSIGNMENT_QUEUE, prefetch=prefetch, timeout=1000
    )
    consumer.misses = IDLE_MISSES
    return consumer


def a_message() -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=ASSIGNMENT_QUEUE,
        actor_name="assign_reviews",
        args=({"request": {}},),
        kwargs={},
        options={},
    )


def after(seconds: float, action: Any) -> None:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()


def test_an_idle_consumer_fetches_as_soon_as_a_message_is_enqueued(broker: Any) -> None:
    consumer = idle_consumer(broker)
    message = a_message()
    started = time.monotonic()
    after(0.1, lambda: broker.enqueue(message))
    assert next(consumer) is None  # woken by the token
    woken = time.monotonic() - started
    fetched = next(consumer)
    assert fetched is not None and fetched.message_id == message.message_id
    assert woken < WOKEN_WITHIN


def test_a_message_pushed_without_a_token_still_runs_within_the_back_off(
    broker: Any, redis_client: Any
) -> None:
    consumer = idle_consumer(broker)
    message = a_message()
    after(0.1, lambda: push(redis_client, "foreign", message.encode()))
    started = time.monotonic()
    fetched = next(consumer) or next(consumer)
    assert fetched is not None and fetched.message_id == message.message_id
    assert time.monotonic() - started < 1.5


def test_a_consumer_that_just_ran_a_message_does_not_poll_an_empty_queue(broker: Any) -> None:
    # dramatiq's back-off starts again at 10 ms after every message: eight fetches of nothing
    # in the next two seconds, for every consumer of the queue
    consumer = idle_consumer(broker)
    broker.enqueue(a_message())
    fetched = next(consumer)
    assert fetched is not None
    consumer.ack(fetched)
    fills = 0
    fill = consumer._fill

    def counted() -> bool:
        nonlocal fills
        fills += 1
        return fill()

    consumer._fill = counted  # type: ignore[method-assign]
    ends = time.monotonic() + 1.5
    while time.monotonic() < ends:
        assert next(consumer) is None
    # one now, one for the message's own token (stale: the message was fetched without it),
    # then one a second (the worker timeout)
    assert fills <= 3


def test_a_consumer_holding_all_it_may_prefetch_fetches_again_after_an_ack(broker: Any) -> None:
    consumer = idle_consumer(broker, prefetch=1)
    first, second = a_message(), a_message()
    broker.enqueue(first)
    broker.enqueue(second)
    running = next(consumer)
    assert running is not None and running.message_id == first.message_id
    consumer.misses = IDLE_MISSES
    started = time.monotonic()
    after(0.1, lambda: consumer.ack(running))
    assert next(consumer) is None  # woken by the ack
    woken = time.monotonic() - started
    fetched = next(consumer)
    assert fetched is not None and fetched.message_id == second.message_id
    assert woken < WOKEN_WITHIN


def test_an_enqueue_still_works_when_redis_has_forgotten_the_script(
    broker: Any, redis_client: Any
) -> None:
    # as after a Redis restart: the digest the enqueue sends names no script Redis has
    broker.scripts["dispatch"].sha = "0" * 40
    message = broker.enqueue(a_message())
    stored = redis_client.hget(
        queue_key(ASSIGNMENT_QUEUE) + ".msgs", message.options["redis_message_id"]
    )
    assert stored is not None
    assert redis_client.lrange(queue_key(ASSIGNMENT_QUEUE), 0, -1) == [
        message.options["redis_message_id"].encode()
    ]
    assert redis_client.llen(wake_key(ASSIGNMENT_QUEUE)) == 1


def test_a_delayed_message_wakes_the_delay_queue(broker: Any, redis_client: Any) -> None:
    broker.enqueue(a_message(), delay=60_000)
    assert redis_client.llen(wake_key(dq_name(ASSIGNMENT_QUEUE))) == 1
    assert redis_client.llen(wake_key(ASSIGNMENT_QUEUE)) == 0
    assert redis_client.hlen(queue_key(dq_name(ASSIGNMENT_QUEUE)) + ".msgs") == 1


def test_the_wake_list_stays_short_and_expires(broker: Any, redis_client: Any) -> None:
    for _ in range(3 * WAKE_TOKENS):
        broker.enqueue(a_message())
    assert redis_client.llen(wake_key(ASSIGNMENT_QUEUE)) == WAKE_TOKENS
    assert 0 < redis_client.pttl(wake_key(ASSIGNMENT_QUEUE)) <= WAKE_TTL_MS
    assert redis_client.llen(queue_key(ASSIGNMENT_QUEUE)) == 3 * WAKE_TOKENS


def test_an_idle_consumer_beats_and_brings_back_a_dead_workers_messages(
    broker: Any, redis_client: Any
) -> None:
    # A worker that died holding a message: its heartbeat is ancient, the message in its acks.
    lost = a_message().copy(options={"redis_message_id": "lost"})
    push(redis_client, "lost", lost.encode())
    redis_client.lpop(queue_key(ASSIGNMENT_QUEUE))
    redis_client.sadd(f"reviewq:__acks__.dead-worker.{ASSIGNMENT_QUEUE}", "lost")
    redis_client.zadd("reviewq:__heartbeats__", {"dead-worker": 0})
    consumer = idle_consumer(broker)
    deadline = time.monotonic() + 15  # maintenance: a 50% draw every 0.5 s
    fetched = None
    while fetched is None and time.monotonic() < deadline:
        fetched = next(consumer)
    assert fetched is not None and fetched.message_id == lost.message_id
    beat = redis_client.zscore("reviewq:__heartbeats__", broker.broker_id)
    assert beat is not None and time.time() * 1000 - beat < 5_000


def _sent_and_started(index: int) -> float:
    """Send one request to the worker; ms from the send to the actor's start."""
    body = {"reviewIds": ["no-such-review"], "assignmentStrategy": {"type": "specific"}}
    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, body, idempotency_key=f"idle-{index}")
    sent = time.time()
    assign_reviews.send(message_for(request))
    done = wait_for_request(request.uuid, timeout=30)
    assert done.status == RequestStatus.FAILED  # at once: the review does not exist
    assert done.started_at is not None
    return (done.started_at.replace(tzinfo=UTC).timestamp() - sent) * 1000


def test_an_idle_worker_starts_a_new_message_within_milliseconds(
    pg_db: Database, redis_client: Any, start_worker: StartWorker
) -> None:
    worker = start_worker(processes=1, threads=2)
    _sent_and_started(-1)  # booted, connections open
    latencies = []
    for index in range(20):
        time.sleep(1.2)  # idle: the consumers back off towards a second
        latencies.append(_sent_and_started(index))
    # dramatiq's sleep made this hundreds of ms (p50 552 ms measured with its back-off)
    assert statistics.median(latencies) < 100, sorted(latencies)
    stopping = time.monotonic()
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=20)
    assert time.monotonic() - stopping < 10, "a consumer blocked in BLPOP held up the shutdown"
