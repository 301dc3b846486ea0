"""`reviewq conflicts ...` and `reviewq pool list` through the real command line, acting as a
named user with the API's permissions: full ids in the tables, the API's JSON with --json,
and the decisions' effects on the items."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.app import app
from store import AssignmentItem, ConflictOfInterest, ItemConflict, Proposal
from store.enums import CoiStatus, ItemStatus
from tests.builders import BatchWorld, build_batch_world
from tests.factories import make_conflict, make_pool_entry, make_reviewer


@pytest.fixture
def world(runner: CliRunner) -> BatchWorld:
    """Rita's draft batch; her third item is blocked by a pending conflict linked to it."""
    world = build_batch_world()
    blocked = world.items[2]
    coi = make_conflict(world.call, world.reviewer, Proposal.get_by_id(blocked.proposal_id))
    ItemConflict.create(item=blocked.id, conflict=coi.id)
    return world


def cli(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def the_conflict() -> ConflictOfInterest:
    found: ConflictOfInterest = ConflictOfInterest.select().get()
    return found


def test_list_shows_full_ids_and_json_the_api_rows(runner: CliRunner, world: BatchWorld) -> None:
    coi = the_conflict()
    code, out, _ = cli(runner, "conflicts", "list", "--as", "mona")
    assert code == 0 and str(coi.uuid) in out and "Rita Reviewer" in out
    code, out, _ = cli(
        runner, "conflicts", "list", "--as", "mona", "--call", str(world.call.uuid), "--json"
    )
    rows = json.loads(out)
    assert [(r["uuid"], r["status"], r["coi_type"]) for r in rows] == [
        (str(coi.uuid), "pending", "INST_SAME")
    ]
    assert rows[0]["url"].endswith(f"/api/conflicts-of-interest/{coi.uuid}/")


def test_another_calls_manager_sees_none_and_cannot_decide(
    runner: CliRunner, world: BatchWorld
) -> None:
    other = world.other_manager.username
    code, out, _ = cli(runner, "conflicts", "list", "--as", other, "--json")
    assert (code, json.loads(out)) == (0, [])
    code, _, err = cli(runner, "conflicts", "waive", str(the_conflict().uuid), "--as", other)
    assert code == 1 and "No conflict of interest found." in err
    assert the_conflict().status == CoiStatus.PENDING


def test_waive_unblocks_and_recuse_blocks_again(runner: CliRunner, world: BatchWorld) -> None:
    coi, blocked = the_conflict(), world.items[2]
    code, out, _ = cli(
        runner, "conflicts", "waive", str(coi.uuid), "--as", "mona", "--plan", "A second reader"
    )
    assert code == 0, out
    assert "pending -> waived" in out and f"unblocked item: {blocked.uuid}" in out
    assert AssignmentItem.get_by_id(blocked.id).status == ItemStatus.PENDING
    assert the_conflict().management_plan == "A second reader"
    code, out, _ = cli(runner, "conflicts", "recuse", str(coi.uuid), "--as", "mona", "--json")
    assert code == 0 and json.loads(out)["status"] == "recused"
    assert AssignmentItem.get_by_id(blocked.id).status == ItemStatus.COI_BLOCKED
    code, out, _ = cli(runner, "conflicts", "dismiss", str(coi.uuid), "--as", "mona")
    assert code == 0 and "recused -> dismissed" in out


def test_pool_list_shows_the_calls_pool_to_its_manager(
    runner: CliRunner, world: BatchWorld
) -> None:
    make_pool_entry(world.call, make_reviewer(name="Rob Reviewer", email="rob@example.org"))
    code, out, _ = cli(runner, "pool", "list", str(world.call.uuid), "--as", "mona")
    assert code == 0 and "Rita Reviewer" in out and "Rob Reviewer" in out
    entry = world.batch.reviewer_pool_entry
    assert str(entry.uuid) in out
    code, out, _ = cli(runner, "pool", "list", str(world.call.uuid), "--as", "mona", "--json")
    rows = json.loads(out)
    rita = next(r for r in rows if r["reviewer_name"] == "Rita Reviewer")
    assert (rita["current_assignments"], rita["coi_count"]) == (2, 1)
    code, _, err = cli(
        runner, "pool", "list", str(world.call.uuid), "--as", world.stranger.username
    )
    assert code == 1 and "No call found." in err
