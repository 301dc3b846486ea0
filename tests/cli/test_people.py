"""`reviewq users list` and `reviewq reviewers list`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.app import app
from store.enums import InvitationStatus, ReviewState
from tasks.users import rotate_token
from tests.factories import (
    make_call,
    make_call_manager,
    make_pool_entry,
    make_proposal,
    make_review,
    make_reviewer,
    make_user,
)


def test_users_list_says_who_is_staff_what_each_manages_and_never_a_token(
    runner: CliRunner,
) -> None:
    call = make_call(external_id="call_9")
    make_call_manager(call, username="mona")
    root = make_user(username="root", is_staff=True)
    token = rotate_token(root)
    result = runner.invoke(app, ["users", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["username"]: row for row in json.loads(result.stdout)}
    assert rows["mona"]["manages"] == ["call_9"] and not rows["mona"]["is_staff"]
    assert rows["root"]["is_staff"] and rows["root"]["has_token"]
    assert not rows["mona"]["has_token"]
    assert token not in result.stdout
    table = runner.invoke(app, ["user", "list"], env={"COLUMNS": "200"})
    assert "staff" in table.stdout and "call_9" in table.stdout


def test_reviewers_list_gives_workloads_and_pools(runner: CliRunner) -> None:
    call = make_call(external_id="call_1")
    other = make_call(external_id="call_2")
    ada = make_reviewer("ada", name="Ada")
    bob = make_reviewer("bob", name="Bob", available_for_reviews=False)
    make_pool_entry(call, ada, max_assignments=4)
    make_pool_entry(other, bob, invitation_status=InvitationStatus.PENDING)
    make_review(make_proposal(call), reviewer=ada, state=ReviewState.IN_REVIEW)
    result = runner.invoke(app, ["reviewers", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["external_id"]: row for row in json.loads(result.stdout)}
    assert rows["ada"]["workload"] == 1 and rows["bob"]["workload"] == 0
    assert rows["ada"]["pools"] == ["call_1 (accepted, max 4)"]
    only = runner.invoke(app, ["reviewers", "list", "--call", "call_2", "--json"])
    assert [row["external_id"] for row in json.loads(only.stdout)] == ["bob"]
    table = runner.invoke(app, ["reviewers", "list"], env={"COLUMNS": "200"})
    assert "Bob (unavailable)" in table.stdout
