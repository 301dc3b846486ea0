"""What operators and orchestrators call: `/healthz` (alive), `/readyz` (the database and Redis
answer within a second) and `/metrics` (Prometheus text, api/metrics.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from config import get_settings
from store.db import database

router = APIRouter(tags=["operations"], include_in_schema=False)

READY_TIMEOUT_SECONDS = 1.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serving; says nothing of what it depends on."""
    return {"status": "ok"}


def _database_answers() -> None:
    database.connect(reuse_if_open=True)
    try:
        database.execute_sql("SELECT 1")
    finally:
        database.close()


def _redis_answers() -> None:
    client = redis.Redis.from_url(
        get_settings().effective_redis_url,
        socket_timeout=READY_TIMEOUT_SECONDS,
        socket_connect_timeout=READY_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


@router.get("/readyz")
def readyz() -> JSONResponse:
    """200 when the database and Redis both answer within a second, else 503 naming which
    did not and why."""
    checks = {"database": _database_answers, "redis": _redis_answers}
    pool = ThreadPoolExecutor(max_workers=len(checks))
    futures = {name: pool.submit(check) for name, check in checks.items()}
    results: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=READY_TIMEOUT_SECONDS)
            results[name] = "ok"
        except FutureTimeout:
            results[name] = f"no answer within {READY_TIMEOUT_SECONDS:g} s"
        except Exception as exc:  # any failure of a dependency is "not ready", with its reason
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            results[name] = f"failed: {first_line}"
    pool.shutdown(wait=False)  # a check that hangs is left to time out on its own
    ready = all(result == "ok" for result in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": results},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
