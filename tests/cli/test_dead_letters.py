"""`reviewq dead-letters list|requeue|delete` on real Redis: actor, error and time listed; ids
that match nothing exit 1 and change nothing."""

from __future__ import annotations

import json
from typing import Any

import dramatiq
import redis
from typer.testing import CliRunner

from cli.app import app
from tests.builders import REDIS_URL
from workers.admin import list_dead_letters
from workers.broker import build_broker


def dead_letters(count: int) -> list[str]:
    """`count` messages of an actor that always fails, run until they are dead letters."""
    broker = build_broker(REDIS_URL)

    @dramatiq.actor(broker=broker, queue_name="assignments", max_retries=0)
    def always_fails(x: int) -> None:
        raise RuntimeError(f"cannot handle {x}")

    ids = [always_fails.send(n).message_id for n in range(count)]
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    try:
        broker.join("assignments", timeout=10_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    return ids


def test_list_requeue_and_delete_by_id(redis_client: Any) -> None:
    runner = CliRunner()
    first, second, third = dead_letters(3)
    listed = runner.invoke(app, ["dead-letters", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["message_id"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {first, second, third}
    assert rows[first]["actor"] == "always_fails"
    assert rows[first]["reason"] == "RuntimeError: cannot handle 0"
    assert rows[first]["dead_since"].startswith("20")

    client = redis.Redis.from_url(REDIS_URL)
    unknown = runner.invoke(app, ["dead-letters", "delete", first, "no-such-id"])
    assert unknown.exit_code == 1 and "no-such-id" in unknown.stderr
    assert len(list_dead_letters(client)) == 3, "a refused command changes nothing"
    deleted = runner.invoke(app, ["dead-letters", "delete", first])
    assert deleted.exit_code == 0 and "deleted 1 message(s)" in deleted.stdout
    requeue_unknown = runner.invoke(app, ["dead-letters", "requeue", "nope"])
    assert requeue_unknown.exit_code == 1
    requeued = runner.invoke(app, ["dead-letters", "requeue", second])
    assert requeued.exit_code == 0 and "requeued 1 message(s)" in requeued.stdout
    assert [x.message_id for x in list_dead_letters(client)] == [third]
    assert client.llen("reviewq:assignments") == 1
    table = runner.invoke(app, ["dead-letters", "list"], env={"COLUMNS": "200"})
    assert "always_fails" in table.stdout and "cannot handle 2" in table.stdout
