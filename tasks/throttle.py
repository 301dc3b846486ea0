"""Failed authentications per client address, counted in Redis so that the limit holds across
every web process: past REVIEWQ_AUTH_FAILURE_LIMIT failures within
REVIEWQ_AUTH_FAILURE_WINDOW_SECONDS, every authentication from that address is refused with 429
(TooManyFailedLogins, with the seconds left in the window) until the window ends, so a token
guesser learns nothing more. A limit of 0 turns the check off; an unreachable Redis lets
requests through (authentication does not depend on Redis) and says so in the log.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import redis

from config import get_settings
from tasks.errors import TooManyFailedLogins
from workers.redis_keys import AUTH_FAILURES_PREFIX

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _key(address: str) -> str:
    return f"{AUTH_FAILURES_PREFIX}{address}"


def check_address(address: str) -> None:
    """Raise TooManyFailedLogins if `address` has used up its failures in this window."""
    settings = get_settings()
    if settings.auth_failure_limit <= 0:
        return
    client = _client(settings.effective_redis_url)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.get(_key(address))
            pipe.ttl(_key(address))
            count, ttl = pipe.execute()
    except redis.RedisError:
        logger.warning("auth failure limit not checked: Redis unreachable", exc_info=True)
        return
    if count is not None and int(count) >= settings.auth_failure_limit:
        raise TooManyFailedLogins(max(1, int(ttl)) if ttl and ttl > 0 else 1)


def record_failure(address: str) -> None:
    """Count one failed authentication of `address`; the window starts at its first failure."""
    settings = get_settings()
    if settings.auth_failure_limit <= 0:
        return
    client = _client(settings.effective_redis_url)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.set(_key(address), 0, ex=settings.auth_failure_window_seconds, nx=True)
            pipe.incr(_key(address))
            pipe.execute()
    except redis.RedisError:
        logger.warning("auth failure not counted: Redis unreachable", exc_info=True)
