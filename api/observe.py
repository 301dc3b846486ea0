"""What the web process says of every HTTP request: its request id, one log line, and the
Prometheus counts (names part of interfaces.md).

- `X-Request-ID`: taken from the request when it is a sane token (letters, digits and `._:-`,
  up to 128), else generated; bound to every log line of the request
  (structlog.contextvars: it reaches the threads FastAPI runs endpoints in) and returned in the
  response.
- One line per request (logger `api.access`): method, route, status, duration_ms, request_id.
- `reviewq_http_requests_total{method,route,status}` and
  `reviewq_http_request_duration_seconds{method,route}`; `route` is the path template the request
  matched (`/api/assignment-batches/{uuid}/`), never a raw id, `<unmatched>` for none.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

access_log = logging.getLogger("api.access")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-request-id":
            given = value.decode("latin-1").strip()
            if SANE_REQUEST_ID.match(given):
                return given
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The path template of the route that served `scope` (set by Starlette's router)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED


class ObservedRequests:
    """An ASGI middleware: request id, access line and metrics for every HTTP request."""

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
        request_id = request_id_of(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route, method = route_template(scope), scope["method"]
                self.requests.labels(method, route, str(status)).inc()
                self.duration.labels(method, route).observe(seconds)
                access_log.info(
                    "http request",
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )
