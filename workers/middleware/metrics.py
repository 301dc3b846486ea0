"""Per-message Prometheus metrics of the worker processes (the names are part of interfaces.md):

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

import time
from functools import cache
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from prometheus_client import Counter, Gauge, Histogram


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


class MessageMetrics(dramatiq.Middleware):
    """Counts and times every message; must run after Retries (it reads whether the message
    was failed for good)."""

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

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._started[message.message_id] = time.perf_counter()
        self.in_progress.labels(message.actor_name).inc()

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
        if started is not None:
            self.in_progress.labels(actor).dec()
            self.duration.labels(actor).observe(time.perf_counter() - started)
        outcome = "succeeded" if exception is None else "failed" if message.failed else "retried"
        self.messages.labels(actor, outcome).inc()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if self._started.pop(message.message_id, None) is not None:
            self.in_progress.labels(message.actor_name).dec()
        self.messages.labels(message.actor_name, "skipped").inc()
