"""`reviewq calls list|show`, with the API's visibility."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.app import app
from store import ReviewerPoolEntry
from store.enums import BatchStatus
from tests.factories import (
    make_assignment_batch,
    make_call,
    make_call_manager,
    make_pool_entry,
    make_proposal,
    make_reviewer,
    make_user,
)


def test_calls_list_and_show(runner: CliRunner) -> None:
    mine = make_call(external_id="call_a", name="Astronomy 2027", reviewers_per_proposal=2)
    other = make_call(external_id="call_b", name="Biology 2027")
    make_call_manager(mine, username="mona")
    make_user(username="root", is_staff=True)
    for _ in range(3):
        make_proposal(mine)
    make_pool_entry(mine, make_reviewer())
    make_assignment_batch(mine, status=BatchStatus.SENT)
    make_assignment_batch(mine)
    make_proposal(other)

    staff = runner.invoke(app, ["calls", "list", "--as", "root", "--json"])
    assert staff.exit_code == 0, staff.output
    assert [row["slug"] for row in json.loads(staff.stdout)] == ["call_a", "call_b"]
    managed = json.loads(runner.invoke(app, ["calls", "list", "--as", "mona", "--json"]).stdout)
    assert [row["slug"] for row in managed] == ["call_a"]
    pool = ReviewerPoolEntry.select().where(ReviewerPoolEntry.call == mine.id).count()
    assert managed[0]["proposals"] == 3 and managed[0]["pool_accepted"] == pool >= 1
    assert managed[0]["batches"] == {"draft": 1, "sent": 1}

    shown = runner.invoke(app, ["calls", "show", "call_a", "--as", "mona", "--json"])
    body = json.loads(shown.stdout)
    assert body["config"]["reviewers_per_proposal"] == 2
    assert (
        body["counts"]["proposals"] == {"submitted": 3}
        or sum(body["counts"]["proposals"].values()) == 3
    )
    table = runner.invoke(app, ["calls", "show", "call_a", "--as", "mona"])
    assert table.exit_code == 0 and "Astronomy 2027" in table.stdout
    hidden = runner.invoke(app, ["calls", "show", "call_b", "--as", "mona"])
    assert hidden.exit_code == 1
