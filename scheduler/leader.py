"""Exactly one active scheduler: a leader lease in Redis, and a dedupe key per (job, fire time).

The lease is one key, `SET key owner NX PX ttl`. Only its owner renews it (compare-and-set in a
Lua script) or releases it (compare-and-delete), so a process whose lease ran out can never
extend or delete the lease a successor holds. Locally, a lease counts as held only until
`ttl - margin` after the start of the last successful acquire or renew (monotonic clock): a
leader that cannot reach Redis stops scheduling before any standby can take over.

Behind the lease, `claim_fire` sets one key per (job, fire time) with NX: even if two processes
believe they lead (a pause longer than the lease), one fire time has one effect.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import redis

from workers.redis_keys import SCHEDULER_FIRE_PREFIX, SCHEDULER_LEADER_KEY

logger = logging.getLogger(__name__)

# Returns 1 when the key still holds our owner id and its expiry was set again, else 0.
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Returns 1 when the key held our owner id and is gone now, else 0.
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def new_owner_id() -> str:
    """A process-unique owner id that also says where the leader runs (for operators)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class LeaderLease:
    """The scheduler leader lease of one process; see the module docstring for the rules."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl: timedelta,
        key: str = SCHEDULER_LEADER_KEY,
        owner: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.key = key
        self.owner = owner or new_owner_id()
        self.ttl_ms = max(int(ttl.total_seconds() * 1000), 1)
        # The local view ends early, so clock drift and the Redis round trip are covered.
        self.margin_s = min(1.0, self.ttl_ms / 1000 / 5)
        self._clock = clock
        self._valid_until: float | None = None
        self._renew = client.register_script(RENEW_SCRIPT)
        self._release = client.register_script(RELEASE_SCRIPT)

    def is_held(self) -> bool:
        """True while this process may act as leader (lease taken and not locally expired)."""
        return self._valid_until is not None and self._clock() < self._valid_until

    def keep(self) -> bool:
        """Renew the lease if held, else try to take it; returns whether it is held now.

        Any Redis error, or a renewal refused because another owner holds the key, drops the
        lease at once: the caller stops scheduling until a later `keep` takes it again.
        """
        started = self._clock()
        try:
            held = self._try_renew() if self._valid_until is not None else self._try_acquire()
        except Exception:  # Redis down, or anything else: never lead on a doubt
            logger.warning("scheduler lease: keeping it failed; not leading", exc_info=True)
            held = False
        self._set_held(held, started)
        return held

    def release(self) -> bool:
        """Give the lease up if this process still owns it; never deletes another owner's."""
        self._valid_until = None
        try:
            return bool(self._release(keys=[self.key], args=[self.owner]))
        except redis.RedisError:
            logger.warning("scheduler lease: release failed; it expires by itself", exc_info=True)
            return False

    def current_owner(self) -> str | None:
        """Who holds the lease in Redis now (None: nobody)."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def _try_acquire(self) -> bool:
        return bool(self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms))

    def _try_renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.owner, self.ttl_ms]))

    def _set_held(self, held: bool, started: float) -> None:
        was_held = self._valid_until is not None
        self._valid_until = started + self.ttl_ms / 1000 - self.margin_s if held else None
        if held and not was_held:
            logger.info("scheduler lease taken by %s", self.owner)
        elif was_held and not held:
            logger.warning("scheduler lease lost by %s: scheduling stops", self.owner)


def fire_key(job: str, fire_time: datetime) -> str:
    """The Redis key that records one fire of `job` at the (aligned) `fire_time`."""
    return f"{SCHEDULER_FIRE_PREFIX}{job}:{fire_time.isoformat(timespec='milliseconds')}"


def claim_fire(
    client: redis.Redis, job: str, fire_time: datetime, *, ttl: timedelta, owner: str
) -> bool:
    """True for exactly one caller per (job, fire time) while the key lives (`ttl`)."""
    ttl_ms = max(int(ttl.total_seconds() * 1000), 1)
    return bool(client.set(fire_key(job, fire_time), owner, nx=True, px=ttl_ms))
