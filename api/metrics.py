"""The web process's Prometheus metrics (the names are part of interfaces.md's contract).

- `reviewq_http_requests_total{method,route,status}` and
  `reviewq_http_request_duration_seconds{method,route}`: counted by `HttpMetrics`, an ASGI
  middleware; `route` is the path template the request matched (`/api/assignment-batches/{uuid}/`),
  never a raw id, and `<unmatched>` for a path no route serves.
- Read at scrape time from the store and the broker (`SystemCollector`, a few set-based
  statements and one Redis pipeline): `reviewq_queue_messages{queue,state}`,
  `reviewq_assignment_requests{kind,status}`, `reviewq_outbox_notifications{status}`,
  `reviewq_outbox_oldest_pending_seconds`, `reviewq_batches{status}`.

Each app has its own registry (built in `create_app`, nothing at import time).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import db_connection
from config import get_settings
from store.enums import BatchStatus, NotificationStatus, RequestKind, RequestStatus
from tasks.stats import store_counts
from workers.admin import queue_depths

UNMATCHED = "<unmatched>"
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUEUE_STATES = ("ready", "delayed", "dead", "in_progress")


class HttpMetrics:
    """Counts every HTTP request by method, route template and status, and times it."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "reviewq_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "reviewq_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = route_template(scope)
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()
            self.duration.labels(method, route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The path template of the route that served `scope` (set by Starlette's router)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED


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
