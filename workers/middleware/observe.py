"""What a worker process says of every message: one log line (actor, message_id, request_id,
outcome, duration_ms, attempt) and Prometheus metrics (the names are part of interfaces.md):

- `reviewq_messages_total{actor,outcome}`: outcome `succeeded`, `failed` (no retry left: the
  message goes to the dead letters), `retried` (an exception with retries left) or `skipped`;
- `reviewq_message_duration_seconds{actor}`: histogram of the time an actor ran;
- `reviewq_messages_in_progress{actor}`: messages being processed now;
- `reviewq_mail_deliveries_total{outcome}`: e-mails sent, failed, retried, not claimed
  (`mail_deliveries`, counted by the delivery actor).

Every worker process of a node writes them to `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's
multiprocess mode), and the node's `reviewq worker` serves their sum (workers/node_metrics.py).
Without that variable they stay in the process (unit tests with a StubBroker).
"""

from __future__ import annotations

import logging
import time
from functools import cache
from typing import Any

import dramatiq
import structlog
from dramatiq.broker import MessageProxy
from prometheus_client import Counter, Gauge, Histogram

from config.logs import current_request_id

logger = logging.getLogger(__name__)


@cache
def mail_deliveries() -> Counter:
    """`reviewq_mail_deliveries_total{outcome}`: e-mails `sent`, `failed` for good, `retried`
    (a transient error) and `not_claimed` (already sent, or in flight elsewhere)."""
    return Counter(
        "reviewq_mail_deliveries",
        "Outbox deliveries by outcome.",
        ("outcome",),
        registry=None,
    )


DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class ObservedMessages(dramatiq.Middleware):
    """Logs, counts and times every message; must run after Retries (it reads whether the
    message was failed for good). The message's `request_id` option (the HTTP request that
    caused it, set when it was sent) is bound to every line logged while it runs."""

    def __init__(self) -> None:
        self.messages = Counter(
            "reviewq_messages",
            "Messages processed, by actor and outcome.",
            ("actor", "outcome"),
            registry=None,
        )
        self.duration = Histogram(
            "reviewq_message_duration_seconds",
            "Time an actor ran, by actor.",
            ("actor",),
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self.in_progress = Gauge(
            "reviewq_messages_in_progress",
            "Messages being processed now, by actor.",
            ("actor",),
            registry=None,
            multiprocess_mode="livesum",
        )
        self._started: dict[str, float] = {}
        # the labelled children, by actor (and outcome): `labels()` takes a lock and builds
        # its key on every call, and these never change (nothing removes a child)
        self._actor_children: dict[str, tuple[Gauge, Histogram]] = {}
        self._outcome_children: dict[tuple[str, str], Counter] = {}

    def _children(self, actor: str) -> tuple[Gauge, Histogram]:
        children = self._actor_children.get(actor)
        if children is None:
            children = (self.in_progress.labels(actor), self.duration.labels(actor))
            self._actor_children[actor] = children
        return children

    def _count(self, actor: str, outcome: str) -> None:
        counter = self._outcome_children.get((actor, outcome))
        if counter is None:
            counter = self._outcome_children[actor, outcome] = self.messages.labels(actor, outcome)
        counter.inc()

    def before_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int
    ) -> None:
        """A message sent while answering a request (or processing a message) carries its
        request id, so that the lines of the actor that runs it have it too."""
        request_id = current_request_id()
        if request_id is not None:
            message.options.setdefault("request_id", request_id)

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started[message.message_id] = time.perf_counter()
        self._children(message.actor_name)[0].inc()
        structlog.contextvars.bind_contextvars(
            message_id=message.message_id, request_id=message.options.get("request_id")
        )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        started = self._started.pop(message.message_id, None)
        actor = message.actor_name
        seconds = 0.0 if started is None else time.perf_counter() - started
        if started is not None:
            in_progress, duration = self._children(actor)
            in_progress.dec()
            duration.observe(seconds)
        outcome = "succeeded" if exception is None else "failed" if message.failed else "retried"
        self._count(actor, outcome)
        self._log(message, outcome, seconds, exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if self._started.pop(message.message_id, None) is not None:
            self._children(message.actor_name)[0].dec()
        self._count(message.actor_name, "skipped")
        self._log(message, "skipped", 0.0, None)

    def _log(
        self,
        message: MessageProxy,
        outcome: str,
        seconds: float,
        exception: BaseException | None,
    ) -> None:
        fields: dict[str, Any] = {
            "actor": message.actor_name,
            "message_id": message.message_id,
            "request_id": message.options.get("request_id"),
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 1),
            # retries is counted by Retries before this runs: the attempt that just ended
            "attempt": int(message.options.get("retries", 0)) + (0 if exception else 1),
        }
        if exception is not None:
            fields["error"] = f"{type(exception).__name__}: {exception}"[:500]
        level = logging.WARNING if outcome in ("failed", "retried") else logging.INFO
        logger.log(level, "message processed", extra=fields)
        structlog.contextvars.unbind_contextvars("message_id", "request_id")
