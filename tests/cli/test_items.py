"""`reviewq items ...` through the real command line, acting as a named user with the API's
permissions; ids by any unique start of the uuid."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from dramatiq.brokers.stub import StubBroker
from typer.testing import CliRunner

from cli.app import app
from store import AssignmentItem, Review, ReviewerPoolEntry
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus
from tasks.errors import MSG_ACCEPTED, MSG_DECLINED, MSG_REASSIGNED
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_pool_entry,
    make_proposal,
    make_reviewer,
    make_user,
)


@dataclass
class World:
    items: list[AssignmentItem]  # pending, pending, COI-blocked: Rita's sent batch
    spare: ReviewerPoolEntry  # another reviewer of the call with room


@pytest.fixture
def world(runner: CliRunner) -> World:
    call = make_call(name="Materials 2027")
    make_call_manager(call, username="mona")
    make_call_manager(make_call(), username="otto")  # manages another call
    rita = make_reviewer(user=make_user(username="rita"), name="Rita")
    make_pool_entry(call, rita, max_assignments=5)
    spare = make_pool_entry(call, make_reviewer(name="Sam Spare"), max_assignments=5)
    batch = make_assignment_batch(
        call, rita, status=BatchStatus.SENT, sent_at=utcnow(), expires_at=utcnow() + timedelta(3)
    )
    items = [
        make_assignment_item(batch, make_proposal(call, name="Alloys"), affinity_score=0.8),
        make_assignment_item(batch, make_proposal(call, name="Ceramics"), affinity_score=0.4),
        make_assignment_item(
            batch, make_proposal(call, name="Glass"), status=ItemStatus.COI_BLOCKED, has_coi=True
        ),
    ]
    return World(items, spare)


def items(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["items", *args])
    return result.exit_code, result.stdout, result.stderr


def status(item: AssignmentItem) -> ItemStatus:
    return AssignmentItem.get_by_id(item.id).status


def test_list_and_show_with_the_api_json(runner: CliRunner, world: World) -> None:
    code, out, _ = items(runner, "list", "--as", "mona")
    assert code == 0 and all(str(i.uuid) in out for i in world.items)  # whole uuids
    assert "Alloys" in out and "Blocked due to COI" in out
    code, out, _ = items(runner, "list", "--as", "mona", "--status", "coi_blocked", "--json")
    assert code == 0 and [r["uuid"] for r in json.loads(out)] == [str(world.items[2].uuid)]
    code, out, _ = items(runner, "list", "--as", "otto", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = items(runner, "show", str(world.items[0].uuid), "--as", "rita", "--json")
    assert code == 0 and json.loads(out)["proposal_name"] == "Alloys"
    code, _, err = items(runner, "show", str(world.items[0].uuid), "--as", "otto")
    assert code == 1 and "found" in err


def test_the_reviewer_accepts_and_declines_by_a_start_of_the_uuid(
    runner: CliRunner, world: World, stub_broker: StubBroker
) -> None:
    first, second = (str(item.uuid)[:8] for item in world.items[:2])
    code, out, _ = items(runner, "accept", first, "--as", "rita")
    assert code == 0 and MSG_ACCEPTED in out
    assert status(world.items[0]) == ItemStatus.ACCEPTED and Review.select().count() == 1
    code, out, _ = items(runner, "decline", second, "--as", "rita", "--reason", "Travelling")
    assert code == 0 and MSG_DECLINED in out
    assert AssignmentItem.get_by_id(world.items[1].id).decline_reason == "Travelling"
    code, _, err = items(runner, "accept", first, "--as", "rita")
    assert code == 1 and err.strip(), "a second accept is refused with the domain message"
    code, _, _ = items(runner, "accept", str(world.items[2].uuid), "--as", "mona")
    assert code == 1 and status(world.items[2]) == ItemStatus.COI_BLOCKED


def test_the_manager_reassigns_from_the_suggestions(
    runner: CliRunner, world: World, stub_broker: StubBroker
) -> None:
    declined = world.items[1]
    AssignmentItem.update(status=ItemStatus.DECLINED).where(
        AssignmentItem.id == declined.id
    ).execute()
    code, out, _ = items(runner, "suggest", str(declined.uuid), "--as", "mona")
    assert code == 0 and "Sam Spare" in out and str(world.spare.uuid) in out
    code, _, _ = items(runner, "reassign", str(declined.uuid), "--as", "rita", "--to", "x")
    assert code == 1 and status(declined) == ItemStatus.DECLINED
    code, out, _ = items(
        runner, "reassign", str(declined.uuid), "--as", "mona", "--to", str(world.spare.uuid)[:6]
    )
    assert code == 0 and MSG_REASSIGNED in out, out
    assert status(declined) == ItemStatus.REASSIGNED


def test_force_unblock_names_the_flag_and_delete(
    runner: CliRunner, world: World, stub_broker: StubBroker
) -> None:
    blocked = str(world.items[2].uuid)
    code, _, err = items(runner, "force-unblock", blocked, "--as", "mona", "--reason", " ")
    assert code == 1 and err.startswith("--reason:"), err
    code, out, _ = items(
        runner, "force-unblock", blocked, "--as", "mona", "--reason", "Checked", "--json"
    )
    assert code == 0 and json.loads(out)["has_coi"] is False
    assert status(world.items[2]) == ItemStatus.PENDING
    code, _, _ = items(runner, "delete", str(world.items[0].uuid), "--as", "mona")
    assert code == 1, "an item of a sent batch may not be deleted (domain.md)"
    assert AssignmentItem.get_or_none(AssignmentItem.id == world.items[0].id) is not None


def test_an_ambiguous_start_of_a_uuid_is_refused(runner: CliRunner, world: World) -> None:
    batch = world.items[0].batch
    for n in (1, 2):
        make_assignment_item(batch, uuid=UUID(f"abcd0000-0000-4000-8000-00000000000{n}"))
    make_assignment_item(batch, uuid=UUID("abce0000-0000-4000-8000-000000000003"))
    code, _, err = items(runner, "show", "abcd-0000", "--as", "mona")
    assert code == 2 and "'abcd-0000' is ambiguous" in err
    code, out, _ = items(runner, "show", "ABCE", "--as", "mona", "--json")
    assert code == 0 and json.loads(out)["uuid"] == "abce0000-0000-4000-8000-000000000003"
    code, _, err = items(runner, "show", "abcf", "--as", "mona")
    assert code == 1 and "found" in err
