"""The Redis broker, configured so that a SIGKILLed worker's messages come back within a minute.

dramatiq's Redis broker requeues the messages of a worker whose heartbeat is older than
`heartbeat_timeout`, but only during "maintenance", which runs on a random `maintenance_chance`
per million commands (default 0.1%: about nine minutes in practice), and only for the queue of
the command. An idle consumer polls its queue about once a second, so at 50% the queue is
maintained within a few seconds of the 30 s heartbeat timeout: a dead worker's messages come
back in about 35 s, well within the minute (10% was seen to take over 60 s), while the timeout
stays far above the longest time a live worker holds the GIL (a solver call), so a live
worker's message is not run twice (and would be harmless if it were: every actor is
idempotent). Maintenance itself is a few cheap sorted-set reads when no worker is dead.
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from config import get_settings
from workers.middleware.database_connection import DatabaseConnection
from workers.redis_keys import QUEUE_NAMESPACE

HEARTBEAT_TIMEOUT_MS = 30_000
MAINTENANCE_CHANCE = 500_000  # per million commands
DEAD_MESSAGE_TTL_MS = 14 * 86_400_000
DEFAULT_MAX_RETRIES = 12
MIN_BACKOFF_MS = 500
MAX_BACKOFF_MS = 60_000


def _middleware() -> list[dramatiq.Middleware]:
    return [
        AgeLimit(),
        TimeLimit(time_limit=15 * 60_000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(
            max_retries=DEFAULT_MAX_RETRIES, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS
        ),
        DatabaseConnection(),
    ]


def build_broker(redis_url: str) -> dramatiq.Broker:
    """The production broker for `redis_url`."""
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url,
        namespace=QUEUE_NAMESPACE,
        middleware=_middleware(),
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
        dead_message_ttl=DEAD_MESSAGE_TTL_MS,
        health_check_interval=15,
        socket_keepalive=True,
    )


def build_stub_broker() -> dramatiq.Broker:
    """An in-memory broker for unit tests of one actor."""
    return StubBroker(middleware=_middleware())


def setup_broker() -> dramatiq.Broker:
    """Create the process's broker (stub when REVIEWQ_BROKER=stub) and make it dramatiq's."""
    if os.environ.get("REVIEWQ_BROKER") == "stub":
        broker = build_stub_broker()
    else:
        broker = build_broker(get_settings().effective_redis_url)
    dramatiq.set_broker(broker)
    return broker


broker = setup_broker()
