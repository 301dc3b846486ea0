"""The process's broker, built on first use, and the actors declared on it.

Nothing is built at import time: `get_broker()` builds the production broker from the settings
the first time something needs it (as `dramatiq.get_broker()` does), `set_broker()` installs
another (a test's StubBroker) and re-declares every actor on it. Actors are declared with
`actor()`, which records the function and its options and binds them to whichever broker is
current when a message is built or sent.

The Redis broker is configured so that a SIGKILLed worker's messages come back within a minute.

dramatiq's Redis broker requeues the messages of a worker whose heartbeat is older than
`heartbeat_timeout`, but only during "maintenance", which runs on a random `maintenance_chance`
per million commands (default 0.1%: about nine minutes in practice), and only for the queue of
the command. Each consumer draws for its queue's maintenance at most every 0.5 s as it
fetches (workers/wire.py's UPKEEP_SECONDS), and an idle one fetches every 0.5 to 1 s (between
fetches it waits for a wake token), so at 50% the queue is maintained within a few seconds of
the 30 s heartbeat timeout: a dead worker's messages come back in about 35 s, well within the
minute (10% was seen to take over 60 s), while the timeout stays far above the longest time
a live worker holds the GIL (a solver call), so a live worker's message is not run twice (and
would be harmless if it were: every actor is idempotent). Maintenance itself is a few cheap
sorted-set reads when no worker is dead.

The broker's consumer and encoder (workers/wire.py) make a poison message harmless: an
undecodable payload goes to the dead letters with its reason, and every message is
acknowledged by the Redis id it was stored under, whether or not it names one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

import dramatiq
import redis
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import BrokerError
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from peewee import InterfaceError, OperationalError

from config import get_settings
from config.logs import configure_logging
from workers.heartbeat import WorkerHeartbeat
from workers.middleware.database_connection import DatabaseConnection
from workers.middleware.observe import ObservedMessages
from workers.redis_keys import QUEUE_NAMESPACE
from workers.wire import IdentifyingRedisBroker, SafeJSONEncoder

P = ParamSpec("P")
R = TypeVar("R")

HEARTBEAT_TIMEOUT_MS = 30_000
MAINTENANCE_CHANCE = 500_000  # per million commands
DEAD_MESSAGE_TTL_MS = 14 * 86_400_000
DEFAULT_MAX_RETRIES = 12
MIN_BACKOFF_MS = 500
MAX_BACKOFF_MS = 60_000

#: The errors of the infrastructure (database, Redis, network): the only ones worth a retry.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    redis.RedisError,
    BrokerError,
    OSError,
    dramatiq.Retry,
)


def retry_transient(max_retries: int) -> Any:
    """A `retry_when` for dramatiq's Retries: retry an infrastructure error up to `max_retries`
    times; any other error (a bug, bad input the lifecycle did not catch) fails at once."""

    def retry_when(retries: int, exception: BaseException) -> bool:
        return retries < max_retries and isinstance(exception, TRANSIENT_ERRORS)

    return retry_when


_current: dramatiq.Broker | None = None
_declared: dict[str, LazyActor[Any, Any]] = {}


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
        ObservedMessages(),  # after Retries: it reads whether a message failed for good
        WorkerHeartbeat(),
    ]


def build_broker(redis_url: str) -> dramatiq.Broker:
    """The production broker for `redis_url` (not installed: see `set_broker`), with the
    consumer of workers/wire.py (payloads fetched with their Redis ids)."""
    return IdentifyingRedisBroker(  # type: ignore[no-untyped-call]
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
    """An in-memory broker with the production middleware, for unit tests of one actor."""
    return StubBroker(middleware=_middleware())


def get_broker() -> dramatiq.Broker:
    """The process's broker; built from the settings on first use (a stub when
    REVIEWQ_BROKER=stub, else Redis at REDIS_URL)."""
    if _current is None:
        if os.environ.get("REVIEWQ_BROKER") == "stub":
            set_broker(build_stub_broker())
        else:
            set_broker(build_broker(get_settings().effective_redis_url))
    assert _current is not None
    return _current


def set_broker(broker: dramatiq.Broker) -> None:
    """Make `broker` the process's (and dramatiq's) broker, with every actor declared on it."""
    global _current  # noqa: PLW0603 (the one process-wide broker, as dramatiq keeps it)
    _current = broker
    dramatiq.set_encoder(SafeJSONEncoder())  # decode never raises (workers/wire.py)
    dramatiq.set_broker(broker)
    for lazy in _declared.values():
        lazy.bind(broker)


def install() -> None:
    """`dramatiq workers.broker:install tasks.actors`: in each worker process, structured logs
    (config/logs.py) and the broker from the settings."""
    configure_logging(process="worker")
    get_broker()


class LazyActor(Generic[P, R]):
    """An actor whose dramatiq Actor is made on the current broker when first needed.

    It has the Actor methods reviewq uses (`send`, `send_with_options`), `fn`, `actor_name`
    and `queue_name`, and calling it runs the function in-process.
    """

    def __init__(self, fn: Callable[P, R], options: dict[str, Any]) -> None:
        self.fn = fn
        self.actor_name: str = options.pop("actor_name", fn.__name__)
        self.queue_name: str = options.get("queue_name", "default")
        self.options = options
        self._bound: dramatiq.Actor[Any, Any] | None = None

    def bind(self, broker: dramatiq.Broker) -> dramatiq.Actor[Any, Any]:
        """The Actor of this function on `broker`, declared there if it is not yet."""
        if self._bound is not None and self._bound.broker is broker:
            return self._bound
        known = broker.actors.get(self.actor_name)
        if known is not None and known.fn is self.fn:
            self._bound = known
        else:
            declare = dramatiq.actor(broker=broker, actor_name=self.actor_name, **self.options)
            self._bound = declare(self.fn)
        return self._bound

    @property
    def actor(self) -> dramatiq.Actor[Any, Any]:
        return self.bind(get_broker())

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def send(self, *args: Any, **kwargs: Any) -> dramatiq.Message[Any]:
        return self.actor.send(*args, **kwargs)

    def send_with_options(self, **options: Any) -> dramatiq.Message[Any]:
        return self.actor.send_with_options(**options)

    def __repr__(self) -> str:
        return f"LazyActor({self.actor_name!r}, queue_name={self.queue_name!r})"


def actor(**options: Any) -> Callable[[Callable[P, R]], LazyActor[P, R]]:
    """Declare an actor (dramatiq.actor's options) without touching a broker at import time."""

    def declare(fn: Callable[P, R]) -> LazyActor[P, R]:
        lazy = LazyActor(fn, dict(options))
        if lazy.actor_name in _declared:
            raise ValueError(f"an actor named {lazy.actor_name!r} is already declared")
        _declared[lazy.actor_name] = lazy
        if _current is not None:
            lazy.bind(_current)
        return lazy

    return declare
