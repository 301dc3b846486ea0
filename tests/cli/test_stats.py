"""`reviewq stats`: live workers and schedulers from their heartbeats, throughput over the last
minute, queue depths with messages in progress, requests by status and the outbox backlog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from typer.testing import CliRunner

from cli.app import app
from config import get_settings
from store import AssignmentRequest, Notification
from store.clock import utcnow
from store.enums import NotificationKind, NotificationStatus, RequestKind
from tests.builders import REDIS_URL, free_port, stop_process_group
from workers.delivery import deliver_notification

ROOT = Path(__file__).resolve().parents[2]
REVIEWQ = Path(sys.executable).parent / "reviewq"


def notification(n: int, **fields: Any) -> Notification:
    return Notification.create(
        kind=NotificationKind.INVITATION, recipient=f"r{n}@example.org", subject="s",
        text_body="t", html_body="h", dedupe_key=f"stats-{n}", **fields,
    )  # fmt: skip


def stats(runner: CliRunner) -> dict[str, Any]:
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_without_processes_the_store_figures_are_given(
    runner: CliRunner, redis_client: Any
) -> None:
    notification(1, created=utcnow() - timedelta(minutes=5))
    AssignmentRequest.create(kind=RequestKind.ASSIGN_REVIEWS)
    data = stats(runner)
    assert data["workers"] == [] and data["schedulers"] == []
    assert data["throughput_last_minute"] == 0
    assert data["requests"] == {"queued": 1}
    assert data["outbox_backlog"]["pending"] == 1
    assert 290 < data["outbox_backlog"]["oldest_pending_seconds"] < 900
    table = runner.invoke(app, ["stats"], env={"COLUMNS": "200"})
    assert "0 live worker process(es)" in table.stdout and "1 pending" in table.stdout


def test_redis_down_is_said_and_the_rest_shown(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    result = runner.invoke(app, ["stats"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "Redis:" in result.stdout and "Batches" in result.stdout


@pytest.fixture
def processes(
    tmp_path: Path, sqlite_db: Database, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    db_url = f"sqlite:///{tmp_path}/reviews.db"
    from store.db import connect_database
    from store.migrations import migrate

    connect_database(db_url)
    migrate()
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_DATA_DIR": str(tmp_path),
        "REVIEWQ_WORKER_METRICS_PORT": "0",
        "REVIEWQ_SCHEDULER_METRICS_PORT": "0",
        "REVIEWQ_SCHEDULER_SWEEP_SECONDS": "1",
    }
    started = [
        subprocess.Popen(
            [str(REVIEWQ), "worker", "--processes", "2", "--threads", "2"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ),
    ]  # fmt: skip
    yield
    for process in started:
        stop_process_group(process)
    get_settings.cache_clear()


@pytest.mark.e2e
def test_live_workers_and_the_leader_are_listed_with_what_they_did(processes: None) -> None:
    runner = CliRunner()
    sent = [notification(n) for n in range(6)]
    deadline = time.monotonic() + 60
    while True:
        data = stats(runner)
        sweeps = [s for s in data["schedulers"] if "sweep_outbox" in s["jobs"]]
        if len(data["workers"]) == 2 and sweeps:
            break
        assert time.monotonic() < deadline, data
        time.sleep(0.5)
    for row in sent:
        deliver_notification.send(row.id)
    while Notification.select().where(Notification.status == NotificationStatus.SENT).count() < 6:
        assert time.monotonic() < deadline, "the e-mails were not delivered"
        time.sleep(0.3)
    time.sleep(6)  # a heartbeat later
    data = stats(runner)
    assert {w["pid"] for w in data["workers"]} and len(data["workers"]) == 2
    assert all({"assignments", "mail", "scheduled"} <= set(w["queues"]) for w in data["workers"])
    assert data["throughput_last_minute"] >= 6
    assert sum(w["processed_total"] for w in data["workers"]) >= 6
    [leader] = [s for s in data["schedulers"] if s["leader"]]
    assert leader["jobs"]["sweep_outbox"]["outcome"] == "succeeded"
    assert data["outbox_backlog"]["pending"] == 0
