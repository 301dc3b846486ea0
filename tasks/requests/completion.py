"""The completion signal of a queued request: the worker wakes whoever waits for it, through
Redis; the store stays the one truth.

After the commit that finished a request, `announce_finished` pushes a token on the request's
list (REQUEST_DONE_PREFIX + uuid, workers/redis_keys.py: RPUSH, trimmed to DONE_TOKENS, expiring
DONE_TTL_SECONDS later); `await_finished` BLPOPs that list for one slice, and a waiter that pops
the token pushes it back, so every waiter of the request (the same Idempotency-Key retried) wakes.

A token only says "read the store again": the waiter (lifecycle.wait_for_request) reads the row
after every wake and every slice, so a token lost or pushed before anyone listened costs at most
one slice, and without Redis (a StubBroker, Redis down) the waiter polls the store. Neither side
ever raises because of Redis.
"""

from __future__ import annotations

import logging
from uuid import UUID

import redis

from store import database
from workers.broker import get_broker
from workers.redis_keys import REQUEST_DONE_PREFIX

logger = logging.getLogger(__name__)

#: A token outlives any wait a caller makes (REVIEWQ_API_WAIT_SECONDS, the CLI's --timeout).
DONE_TTL_SECONDS = 600
#: A request finished once has one token; a redelivered message adds one, up to this many.
DONE_TOKENS = 4
#: BLPOP's timeout 0 blocks for ever: a shorter slice is rounded up to this.
MIN_SLICE_SECONDS = 0.01


def done_key(request_uuid: UUID | str) -> str:
    """The list a request's completion token is pushed on."""
    return f"{REQUEST_DONE_PREFIX}{request_uuid}"


def _client() -> redis.Redis | None:
    """The broker's Redis client; None with a StubBroker (nobody to tell)."""
    client = getattr(get_broker(), "client", None)
    return client if isinstance(client, redis.Redis) else None


def _push(client: redis.Redis, key: str) -> None:
    with client.pipeline(transaction=False) as pipe:
        pipe.rpush(key, b"1")
        pipe.ltrim(key, -DONE_TOKENS, -1)
        pipe.expire(key, DONE_TTL_SECONDS)
        pipe.execute()


def announce_finished(request_uuid: UUID | str) -> None:
    """Wake the waiters of a request that has finished. Call it after the commit that finished
    it: inside a transaction it does nothing (a waiter could read the row before the commit and
    sleep again), and logs why. Never raises."""
    if database.in_transaction():
        logger.error("completion of request %s not announced: inside a transaction", request_uuid)
        return
    client = _client()
    if client is None:
        return
    try:
        _push(client, done_key(request_uuid))
    except redis.RedisError as exc:
        logger.warning("completion of request %s not announced: %s", request_uuid, exc)


def await_finished(request_uuid: UUID | str, timeout: float) -> bool:
    """Block until the request's completion token comes, or `timeout` s pass, leaving the token
    for the next waiter. True when Redis was listened to (token or not); False when it cannot
    be (no Redis broker, Redis down): the caller polls the store instead. Never raises."""
    client = _client()
    if client is None:
        return False
    key = done_key(request_uuid)
    try:
        if client.blpop([key], timeout=max(timeout, MIN_SLICE_SECONDS)) is not None:
            _push(client, key)  # for the other waiters of this request
    except redis.RedisError as exc:
        logger.warning("waiting for request %s by polling the store: %s", request_uuid, exc)
        return False
    return True
