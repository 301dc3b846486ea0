"""Broker administration, read and written straight in Redis: queue depths and dead letters.

Not a use case: nothing here touches the store. Keys come from workers/redis_keys.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from workers.redis_keys import QUEUES, dq_name, queue_key, xq_name
from workers.wire import dead_letter_reasons_key, decode_message, undecodable_reason


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int
    delayed: int
    dead: int


def queue_depths(client: redis.Redis, queues: Sequence[str] = QUEUES) -> list[QueueDepth]:
    """Ready, delayed (retry backoff) and dead-lettered messages per queue."""
    out = []
    for name in queues:
        out.append(
            QueueDepth(
                queue=name,
                ready=int(client.llen(queue_key(name))),
                delayed=int(client.llen(queue_key(dq_name(name)))),
                dead=int(client.zcard(queue_key(xq_name(name)))),
            )
        )
    return out


def live_messages(broker: dramatiq.Broker, queue: str) -> Iterator[Message[Any]]:
    """Every message of `queue` that is waiting, delayed (retry backoff) or being worked on
    (fetched, not yet acknowledged: a dead worker's too, until maintenance requeues it).

    On Redis these are the entries of the queue's and the delay queue's message hashes, read
    in pages; dead letters are not included.
    """
    if isinstance(broker, RedisBroker):
        for name in (queue, dq_name(queue)):
            for _redis_id, data in broker.client.hscan_iter(f"{queue_key(name)}.msgs", count=500):
                yield decode_message(_as_bytes(data))
    elif isinstance(broker, StubBroker):
        for name in (queue, dq_name(queue)):
            if name in broker.queues:
                for data in list(broker.queues[name].queue):
                    yield decode_message(_as_bytes(data))


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    actor: str
    dead_since: datetime
    retries: int
    args: list[Any]
    redis_id: str
    #: why it is here: the decoding error of an undecodable payload, else the last line of the
    #: error its last attempt raised
    reason: str


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
            message = decode_message(_as_bytes(data))
            redis_id = _as_bytes(raw_id).decode()
            out.append(
                DeadLetter(
                    queue=queue,
                    message_id=redis_id if undecodable_reason(message) else message.message_id,
                    actor=message.actor_name,
                    dead_since=datetime.fromtimestamp(float(score) / 1000, UTC),
                    retries=int(message.options.get("retries", 0)),
                    args=list(message.args),
                    redis_id=redis_id,
                    reason=_reason(client, queue, redis_id, message.options),
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
        message = decode_message(_as_bytes(data))
        if undecodable_reason(message) is not None:
            continue  # nothing a worker could run: it stays listed
        options = {k: v for k, v in message.options.items() if k not in {"retries", "traceback"}}
        broker.enqueue(message.copy(options=options))
        client.zrem(zset, letter.redis_id)
        client.hdel(messages, letter.redis_id)
        client.hdel(dead_letter_reasons_key(letter.queue), letter.redis_id)
        count += 1
    return count


def _reason(client: redis.Redis, queue: str, redis_id: str, options: dict[str, Any]) -> str:
    recorded = client.hget(dead_letter_reasons_key(queue), redis_id)
    if recorded is not None:
        return _as_bytes(recorded).decode(errors="replace")
    lines = [line for line in str(options.get("traceback", "")).splitlines() if line.strip()]
    return lines[-1] if lines else "failed without a recorded error"


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data
