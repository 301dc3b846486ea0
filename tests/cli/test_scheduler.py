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
