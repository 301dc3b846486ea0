"""Failed authentications per client address, counted in Redis so that the limit holds across
every web process: past REVIEWQ_AUTH_FAILURE_LIMIT failures within
REVIEWQ_AUTH_FAILURE_WINDOW_SECONDS, every authentication from that address is refused with 429
(TooManyFailedLogins, with the seconds left in the window) until the window ends, so a token
guesser learns nothing more. A limit of 0 turns the check off; an unreachable Redis lets
requests through (authentication does not depend on Redis) and says so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import redis

from config import Settings, get_settings
from tasks.errors import TooManyFailedLogins
from workers.redis_keys import AUTH_FAILURES_PREFIX

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _run(address: str, queue: Callable[[Any, str, Settings], None]) -> list[Any] | None:
    """The replies of the commands `queue` adds to one transaction on `address`'s counter; None
    when the limit is off or Redis cannot be reached (logged: requests go through)."""
    settings = get_settings()
    if settings.auth_failure_limit <= 0:
        return None
    try:
        with _client(settings.effective_redis_url).pipeline(transaction=True) as pipe:
            queue(pipe, f"{AUTH_FAILURES_PREFIX}{address}", settings)
            replies: list[Any] = pipe.execute()
    except redis.RedisError:
        logger.warning("failed authentications not counted: Redis unreachable", exc_info=True)
        return None
    return replies


def _read(pipe: Any, key: str, _settings: Settings) -> None:
    pipe.get(key)
    pipe.ttl(key)


def _count(pipe: Any, key: str, settings: Settings) -> None:
    pipe.set(key, 0, ex=settings.auth_failure_window_seconds, nx=True)
    pipe.incr(key)


def check_address(address: str) -> None:
    """Raise TooManyFailedLogins if `address` has used up its failures in this window."""
    replies = _run(address, _read)
    if replies is None:
        return
    count, ttl = replies
    if count is not None and int(count) >= get_settings().auth_failure_limit:
        raise TooManyFailedLogins(int(ttl) if ttl and ttl > 0 else 1)


def record_failure(address: str) -> None:
    """Count one failed authentication of `address`; the window starts at its first failure."""
    _run(address, _count)
