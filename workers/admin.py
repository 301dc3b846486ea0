"""Broker administration, read and written straight in Redis: queue depths and dead letters.

Not a use case: nothing here touches the store. Keys come from workers/redis_keys.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
import redis
from dramatiq import Message

from workers.redis_keys import QUEUES, dq_name, queue_key, xq_name


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int  # waiting for a worker
    delayed: int  # waiting for their time (retry backoff, delays), fetched or not
    dead: int  # in the dead-letter queue
    in_progress: int  # fetched by a worker and not yet acknowledged


def queue_depths(client: redis.Redis, queues: Sequence[str] = QUEUES) -> list[QueueDepth]:
    """Messages per queue and state, from the broker's own keys in one round trip: a message
    is in its queue's hash from enqueue to ack and in its list until a worker fetches it."""
    with client.pipeline(transaction=False) as pipe:
        for name in queues:
            pipe.llen(queue_key(name))
            pipe.hlen(f"{queue_key(name)}.msgs")
            pipe.hlen(f"{queue_key(dq_name(name))}.msgs")
            pipe.zcard(queue_key(xq_name(name)))
        answers = [int(n) for n in pipe.execute()]
    out = []
    for index, name in enumerate(queues):
        ready, stored, delayed, dead = answers[4 * index : 4 * index + 4]
        out.append(QueueDepth(name, ready, delayed, dead, max(0, stored - ready)))
    return out


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    actor: str
    dead_since: datetime
    retries: int
    args: list[Any]
    redis_id: str


def _keys(queue: str) -> tuple[str, str]:
    base = queue_key(xq_name(queue))
    return base, f"{base}.msgs"


def list_dead_letters(client: redis.Redis, queues: Sequence[str] = QUEUES) -> list[DeadLetter]:
    """Every dead-lettered message, oldest first within each queue."""
    out = []
    for queue in queues:
        zset, messages = _keys(queue)
        entries: list[tuple[bytes, float]] = client.zrange(zset, 0, -1, withscores=True)  # type: ignore[assignment]
        for raw_id, score in entries:
            data = client.hget(messages, raw_id)
            if data is None:
                continue
            message = Message.decode(_as_bytes(data))
            out.append(
                DeadLetter(
                    queue=queue,
                    message_id=message.message_id,
                    actor=message.actor_name,
                    dead_since=datetime.fromtimestamp(float(score) / 1000, UTC),
                    retries=int(message.options.get("retries", 0)),
                    args=list(message.args),
                    redis_id=_as_bytes(raw_id).decode(),
                )
            )
    return out


def requeue_dead_letters(
    client: redis.Redis, broker: dramatiq.Broker, message_ids: set[str] | None = None
) -> int:
    """Enqueue dead letters again (all, or those with these ids) with fresh retries."""
    count = 0
    for letter in list_dead_letters(client):
        if message_ids is not None and letter.message_id not in message_ids:
            continue
        zset, messages = _keys(letter.queue)
        data = client.hget(messages, letter.redis_id)
        if data is None:
            continue
        message = Message.decode(_as_bytes(data))
        options = {k: v for k, v in message.options.items() if k not in {"retries", "traceback"}}
        broker.enqueue(message.copy(options=options))
        client.zrem(zset, letter.redis_id)
        client.hdel(messages, letter.redis_id)
        count += 1
    return count


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data
