"""A test-only dramatiq middleware that keeps a copy of every message any process enqueues, in a
Redis list (RECORDED_KEY), so that a test can deliver each of them again.

Load `tests.reliability.chaos.record_all` as one more module of the `dramatiq` command, or call
`install()` in a process before it enqueues.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from workers.broker import get_broker

RECORDED_KEY = "reviewq-test:recorded"


class Recorder(dramatiq.Middleware):
    def after_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: Any
    ) -> None:
        broker.client.rpush(RECORDED_KEY, message.encode())  # type: ignore[attr-defined]


def install() -> None:
    broker = get_broker()
    if not any(isinstance(m, Recorder) for m in broker.middleware):
        broker.add_middleware(Recorder())


def recorded(client: Any) -> list[dramatiq.Message[Any]]:
    """Every message recorded so far, in the order they were enqueued."""
    return [dramatiq.Message.decode(data) for data in client.lrange(RECORDED_KEY, 0, -1)]


def replay(client: Any) -> int:
    """Enqueue every recorded message once more, at once, on its own queue; returns how many."""
    messages = recorded(client)
    broker = get_broker()
    for message in messages:
        options = {
            k: v
            for k, v in message.options.items()
            if k not in {"redis_message_id", "eta", "retries"}
        }
        queue = message.queue_name.removesuffix(".DQ")
        broker.enqueue(
            dramatiq.Message(**{**message.asdict(), "queue_name": queue, "options": options})
        )
    return len(messages)
