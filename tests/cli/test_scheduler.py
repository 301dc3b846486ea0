"""`reviewq scheduler run-once JOB [--now ISO-8601]`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from peewee import Database

from store.clock import utcnow
from store.enums import BatchStatus
from tests.builders import DAY, fresh_batch
from tests.factories import make_call, make_sent_batch


def test_run_once_runs_a_job_as_if_the_clock_read_the_given_time(
    db: Database, db_url: str, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.app import app
    from config import get_settings

    deadline = utcnow() + 30 * DAY
    batch = make_sent_batch(make_call(), deadline)
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        early = runner.invoke(app, ["scheduler", "run-once", "expire_batches"])
        late = runner.invoke(
            app,
            [
                "scheduler",
                "run-once",
                "expire-batches",
                "--now",
                deadline.isoformat() + "Z",
                "--json",
            ],
        )
        unknown = runner.invoke(app, ["scheduler", "run-once", "nap"])
        bad_now = runner.invoke(app, ["scheduler", "run-once", "sweep_outbox", "--now", "soon"])
    finally:
        get_settings.cache_clear()

    assert early.exit_code == 0, early.output
    assert "batches_expired=0" in early.output
    assert late.exit_code == 0, late.output
    assert json.loads(late.output)["batches_expired"] == 1
    assert fresh_batch(batch).status == BatchStatus.EXPIRED
    assert unknown.exit_code == 2
    assert bad_now.exit_code == 2


def test_a_dry_run_counts_what_each_job_would_do_and_changes_nothing(
    runner: Any, redis_client: Any
) -> None:
    from cli.app import app
    from store import AssignmentItem, Notification
    from tests.builders import batches_snapshot

    deadline = utcnow() - DAY
    make_sent_batch(make_call(), deadline, items=2)
    before = batches_snapshot()
    result = runner.invoke(app, ["scheduler", "run-once", "expire_batches", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["dry_run"] is True
    assert (body["batches_expired"], body["items_expired"]) == (1, 2)
    assert batches_snapshot() == before, "a dry run writes nothing"
    assert redis_client.dbsize() == 0, "a dry run sends nothing"
    for job in ("send_reminders", "notify_managers", "remind_review_deadlines", "sweep_outbox",
                "redrive_requests"):  # fmt: skip
        shown = runner.invoke(app, ["scheduler", "run-once", job, "--dry-run"])
        assert shown.exit_code == 0 and shown.stdout.startswith("dry run, would do:"), shown.output
    assert batches_snapshot() == before and redis_client.dbsize() == 0
    assert AssignmentItem.select().count() == 2 and Notification.select().count() == 0
    done = runner.invoke(app, ["scheduler", "run-once", "expire_batches", "--json"])
    assert json.loads(done.stdout)["batches_expired"] == 1
