"""The web process's Prometheus figures read at scrape time (names part of interfaces.md; the
HTTP request counts and latencies are api/observe.py's):

- read from the store and the broker (`SystemCollector`, a few set-based
  statements and one Redis pipeline): `reviewq_queue_messages{queue,state}`,
  `reviewq_assignment_requests{kind,status}`, `reviewq_outbox_notifications{status}`,
  `reviewq_outbox_oldest_pending_seconds`, `reviewq_batches{status}`.

Each app has its own registry (built in `create_app`, nothing at import time).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.deps import db_connection
from config import get_settings
from store.enums import BatchStatus, NotificationStatus, RequestKind, RequestStatus
from tasks.stats import store_counts
from workers.admin import queue_depths

QUEUE_STATES = ("ready", "delayed", "dead", "in_progress")


class SystemCollector(Collector):
    """Gauges read from the store and the broker each time Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        yield from self._queues()
        yield from self._store()

    def _queues(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "reviewq_queue_messages", "Messages per queue and state.", labels=("queue", "state")
        )
        client = redis.Redis.from_url(
            get_settings().effective_redis_url, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            for depth in queue_depths(client):
                for state in QUEUE_STATES:
                    family.add_metric((depth.queue, state), getattr(depth, state))
        except redis.RedisError:
            pass  # Redis is down: no queue figures this scrape (/readyz says why)
        finally:
            client.close()
        yield family

    def _store(self) -> Iterator[Metric]:
        requests = GaugeMetricFamily(
            "reviewq_assignment_requests",
            "Queued assignment requests by kind and status.",
            labels=("kind", "status"),
        )
        notifications = GaugeMetricFamily(
            "reviewq_outbox_notifications", "E-mails in the outbox by status.", labels=("status",)
        )
        oldest = GaugeMetricFamily(
            "reviewq_outbox_oldest_pending_seconds",
            "Age of the oldest e-mail still pending in the outbox (0 when none).",
        )
        batches = GaugeMetricFamily(
            "reviewq_batches", "Assignment batches by status.", labels=("status",)
        )
        with contextmanager(db_connection)():
            counts = store_counts()
        for kind in RequestKind:  # every label value, 0 included, so that rates and alerts work
            for status in RequestStatus:
                n = counts.requests.get((kind.value, status.value), 0)
                requests.add_metric((kind.value, status.value), n)
        for mail in NotificationStatus:
            notifications.add_metric((mail.value,), counts.notifications.get(mail.value, 0))
        oldest.add_metric((), counts.oldest_pending_notification_seconds)
        for batch in BatchStatus:
            batches.add_metric((batch.value,), counts.batches.get(batch.value, 0))
        yield from (requests, notifications, oldest, batches)


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(SystemCollector())
    return registry
