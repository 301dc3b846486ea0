"""What is waiting in the broker's queues, read straight from Redis."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from workers.redis_keys import QUEUE_NAMESPACE


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int
    delayed: int
    dead: int


def queue_depths(client: redis.Redis, queues: list[str]) -> list[QueueDepth]:
    """Ready, delayed (retry backoff) and dead-lettered messages per queue."""
    out = []
    for name in queues:
        base = f"{QUEUE_NAMESPACE}:{name}"
        out.append(
            QueueDepth(
                queue=name,
                ready=int(client.llen(base)),
                delayed=int(client.llen(f"{base}.DQ")),
                dead=int(client.zcard(f"{base}.XQ")),
            )
        )
    return out
