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
from workers.wire import (
    dead_letter_reasons_key,
    decode_message,
    failure_reason,
    undecodable_reason,
)


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
        data = client.hget(_keys(letter.queue)[1], letter.redis_id)
        if data is None:
            continue
        message = decode_message(_as_bytes(data))
        if undecodable_reason(message) is not None:
            continue  # nothing a worker could run: it stays listed
        options = {k: v for k, v in message.options.items() if k not in {"retries", "traceback"}}
        broker.enqueue(message.copy(options=options))
        _remove(client, letter)
        count += 1
    return count


def delete_dead_letters(client: redis.Redis, message_ids: set[str]) -> int:
    """Remove the dead letters with these ids for good; returns how many were removed."""
    count = 0
    for letter in list_dead_letters(client):
        if letter.message_id in message_ids:
            _remove(client, letter)
            count += 1
    return count


def _remove(client: redis.Redis, letter: DeadLetter) -> None:
    zset, messages = _keys(letter.queue)
    with client.pipeline(transaction=True) as pipe:
        pipe.zrem(zset, letter.redis_id)
        pipe.hdel(messages, letter.redis_id)
        pipe.hdel(dead_letter_reasons_key(letter.queue), letter.redis_id)
        pipe.execute()


def _reason(client: redis.Redis, queue: str, redis_id: str, options: dict[str, Any]) -> str:
    recorded = client.hget(dead_letter_reasons_key(queue), redis_id)
    if recorded is not None:
        return _as_bytes(recorded).decode(errors="replace")
    return failure_reason(options)


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data
