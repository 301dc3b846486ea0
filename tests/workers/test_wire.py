"""Poison and foreign messages pushed raw onto the real Redis queue, run by a real worker
(workers/wire.py): undecodable payloads go to the dead letters with their reason, the valid
messages fetched with them run, and every message is acknowledged by its Redis id."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from peewee import Database

from store import AssignmentRequest
from store.enums import RequestStatus
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from tests.workers.conftest import StartWorker
from workers.admin import list_dead_letters
from workers.redis_keys import ASSIGNMENT_QUEUE, queue_key, xq_name

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
