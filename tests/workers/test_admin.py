"""Dead letters on real Redis: a message whose retries ran out is listed and can be requeued."""

from __future__ import annotations

from typing import Any

import dramatiq
import redis

from tests.builders import REDIS_URL
from workers.admin import list_dead_letters, requeue_dead_letters
from workers.broker import build_broker
from workers.redis_keys import QUEUE_NAMESPACE


def test_a_message_out_of_retries_is_listed_and_requeued_with_fresh_retries(
    redis_client: Any,
) -> None:
    broker = build_broker(REDIS_URL)

    @dramatiq.actor(broker=broker, queue_name="assignments", max_retries=0)
    def always_fails(x: int) -> None:
        raise RuntimeError(f"cannot handle {x}")

    message = always_fails.send(41)
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    try:
        broker.join("assignments", timeout=10_000)
        worker.join()
    finally:
        worker.stop()

    client = redis.Redis.from_url(REDIS_URL)
    letters = list_dead_letters(client)
    assert [(x.message_id, x.actor, x.args) for x in letters] == [
        (message.message_id, "always_fails", [41])
    ]
    assert requeue_dead_letters(client, broker) == 1
    assert list_dead_letters(client) == []
    assert client.llen(f"{QUEUE_NAMESPACE}:assignments") == 1
    broker.close()
