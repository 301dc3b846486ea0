"""/healthz, /readyz and /metrics: the names of interfaces.md, route templates never raw ids,
figures read from the store and the broker, a web process that starts while Redis is down."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from config import get_settings
from store import Notification
from store.clock import utcnow
from store.enums import BatchStatus, NotificationKind
from tests.builders import free_port, stop_process_group
from tests.factories import make_assignment_batch, make_call
from workers.redis_keys import ASSIGNMENT_QUEUE, queue_key

ROOT = Path(__file__).resolve().parents[2]


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed as Prometheus parses the text format."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("REDIS_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_healthz_and_readyz(api_client: TestClient) -> None:
    assert api_client.get("/healthz").json() == {"status": "ok"}
    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_names_redis_when_it_does_not_answer(
    api_client: TestClient, redis_down: str
) -> None:
    started = time.monotonic()
    ready = api_client.get("/readyz")
    assert ready.status_code == 503 and time.monotonic() - started < 3
    checks = ready.json()["checks"]
    assert checks["database"] == "ok" and checks["redis"].startswith("failed:")
    assert api_client.get("/healthz").status_code == 200
    assert any(name == "reviewq_batches" for name, _ in samples(api_client)), (
        "the store's figures are still scraped while Redis is down"
    )


def test_http_metrics_count_by_route_template_never_by_id(api_client: TestClient) -> None:
    raw = "3f2a9c1e-0000-4000-8000-00000000abcd"
    for _ in range(2):
        api_client.get(f"/api/assignment-batches/{raw}/")
    api_client.get(f"/no/such/{raw}")
    found = samples(api_client)
    key = ("method", "GET"), ("route", "/api/assignment-batches/{uuid}/"), ("status", "401")
    assert found[("reviewq_http_requests_total", key)] == 2
    unmatched = ("method", "GET"), ("route", "<unmatched>"), ("status", "404")
    assert found[("reviewq_http_requests_total", unmatched)] == 1
    count = ("method", "GET"), ("route", "/api/assignment-batches/{uuid}/")
    assert found[("reviewq_http_request_duration_seconds_count", count)] == 2
    assert raw not in api_client.get("/metrics").text


def test_store_and_queue_figures_are_read_at_scrape_time(
    api_client: TestClient, redis_client: Any
) -> None:
    call = make_call()
    for _ in range(3):
        make_assignment_batch(call, status=BatchStatus.SENT)
    make_assignment_batch(call)
    Notification.create(
        kind=NotificationKind.INVITATION,
        recipient="a@example.org",
        subject="s",
        text_body="t",
        html_body="h",
        dedupe_key="k1",
        created=utcnow() - timedelta(seconds=90),
    )
    key = queue_key(ASSIGNMENT_QUEUE)
    redis_client.hset(f"{key}.msgs", mapping={"a": "{}", "b": "{}", "c": "{}"})
    redis_client.rpush(key, "a")  # a still waits; b and c were fetched and are not yet acked
    found = samples(api_client)
    assert found[("reviewq_batches", (("status", "sent"),))] == 3
    assert found[("reviewq_batches", (("status", "draft"),))] == 1
    assert found[("reviewq_batches", (("status", "expired"),))] == 0
    assert found[("reviewq_outbox_notifications", (("status", "pending"),))] == 1
    assert 85 <= found[("reviewq_outbox_oldest_pending_seconds", ())] < 600
    queue = (("queue", ASSIGNMENT_QUEUE),)
    assert found[("reviewq_queue_messages", (*queue, ("state", "ready")))] == 1
    assert found[("reviewq_queue_messages", (*queue, ("state", "in_progress")))] == 2
    requests = (("kind", "assign_reviews"), ("status", "queued"))
    assert found[("reviewq_assignment_requests", requests)] == 0


@pytest.mark.e2e
def test_a_web_process_started_while_redis_is_down_answers_healthz(
    tmp_path: Path, redis_down: str
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "REDIS_URL": redis_down,
        "DATABASE_URL": f"sqlite:///{tmp_path}/r.db",
    }
    web = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert web.poll() is None, "the web process exited"
                assert time.monotonic() < deadline, "no /healthz answer"
                time.sleep(0.3)
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert not_ready.value.code == 503
    finally:
        stop_process_group(web)
