"""Manual assignment as a use case, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from peewee import Database
from typer.testing import CliRunner

from api.serializers.answers import manual_out
from cli.app import app
from store import AssignmentBatch, AssignmentItem, ItemConflict, ReviewerPoolEntry
from store.enums import BatchSource, BatchStatus, InvitationStatus, ItemStatus, ProposalState
from store.workload import workloads
from tasks.batches.manual import create_manual_assignment
from tasks.errors import (
    MSG_ALREADY_IN_BATCH,
    MSG_OVER_WORKLOAD_SUFFIX,
    MSG_POOL_ENTRY_NOT_ELIGIBLE,
    MSG_REVIEWER_HAS_PROPOSAL,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from tasks.results import ManuallyAssigned
from tests.builders import PoolWorld, build_pool_world
from tests.factories import (
    give_in_review,
    make_affinity,
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_conflict,
    make_pool_entry,
    make_proposal,
)


@pytest.fixture
def world(db: Database) -> PoolWorld:
    """A call and its pool before any batch (instead of the conftest\'s batch world)."""
    return build_pool_world(n_proposals=4, n_reviewers=2, k=2, cap=3)


def assign(world: PoolWorld, proposals: list[int], **options: object) -> dict[str, Any]:
    result = create_manual_assignment(
        world.staff,
        str(world.call.uuid),
        str(world.entries[0].uuid),
        [str(world.proposals[i].uuid) for i in proposals],
        **options,  # type: ignore[arg-type]
    )
    return answered(result)


def answered(result: ManuallyAssigned) -> dict[str, Any]:
    """The answer of the API to a manual assignment."""
    return manual_out(result).model_dump(mode="json")


def items_of(batch_uuid: object) -> list[AssignmentItem]:
    batch = AssignmentBatch.get(AssignmentBatch.uuid == batch_uuid)
    return list(batch.items.order_by(AssignmentItem.id))


def test_manual_assignment_answers_with_the_interface_shape(world: PoolWorld) -> None:
    answer = assign(world, [0, 1])
    assert list(answer) == ["batch_uuid", "items_created", "skipped_proposals"]
    assert answer["items_created"] == 2
    assert answer["skipped_proposals"] == []
    batch = AssignmentBatch.get(AssignmentBatch.uuid == answer["batch_uuid"])
    assert (batch.source, batch.status) == (BatchSource.MANUAL, BatchStatus.DRAFT)
    assert batch.reviewer_pool_entry_id == world.entries[0].id
    assert batch.created_by_id == world.staff.id


def test_items_carry_the_known_affinity(world: PoolWorld) -> None:
    make_affinity(world.call, world.reviewers[0], world.proposals[0], 0.75)
    answer = assign(world, [0, 1])
    assert [i.affinity_score for i in items_of(answer["batch_uuid"])] == [0.75, None]


def test_a_blocking_conflict_makes_the_item_coi_blocked(world: PoolWorld) -> None:
    coi = make_conflict(world.call, world.reviewers[0], world.proposals[1])
    answer = assign(world, [0, 1])
    first, second = items_of(answer["batch_uuid"])
    assert (first.status, first.has_coi) == (ItemStatus.PENDING, False)
    assert (second.status, second.has_coi) == (ItemStatus.COI_BLOCKED, True)
    assert [link.conflict_id for link in ItemConflict.select()] == [coi.id]


def test_the_open_manual_draft_is_reused_and_its_proposals_are_skipped(world: PoolWorld) -> None:
    first = assign(world, [0])
    second = assign(world, [0, 1], manager_notes="please")
    assert second["batch_uuid"] == first["batch_uuid"]
    assert second["items_created"] == 1
    assert second["skipped_proposals"] == [
        {
            "proposal_uuid": str(world.proposals[0].uuid),
            "proposal_name": world.proposals[0].name,
            "reason": MSG_ALREADY_IN_BATCH,
        }
    ]
    batch = AssignmentBatch.get(AssignmentBatch.uuid == first["batch_uuid"])
    assert batch.manager_notes == "please"


def test_a_proposal_the_reviewer_has_in_another_batch_is_skipped(world: PoolWorld) -> None:
    old = make_assignment_batch(world.call, world.reviewers[0], status=BatchStatus.RESPONDED)
    make_assignment_item(old, world.proposals[0], status=ItemStatus.DECLINED)
    give_in_review(world.reviewers[0], world.proposals[1])
    answer = assign(world, [0, 1, 2])
    assert answer["items_created"] == 1
    assert [s["reason"] for s in answer["skipped_proposals"]] == [
        MSG_REVIEWER_HAS_PROPOSAL,
        MSG_REVIEWER_HAS_PROPOSAL,
    ]


def test_an_unassignable_proposal_is_skipped_with_its_state(world: PoolWorld) -> None:
    rejected = make_proposal(world.call, state=ProposalState.REJECTED)
    answer = answered(
        create_manual_assignment(
            world.staff, str(world.call.uuid), str(world.entries[0].uuid), [str(rejected.uuid)]
        )
    )
    assert answer["items_created"] == 0
    assert "rejected" in answer["skipped_proposals"][0]["reason"]
    draft = AssignmentBatch.get(AssignmentBatch.uuid == answer["batch_uuid"])  # always named
    assert draft.status == BatchStatus.DRAFT and draft.items.count() == 0


def test_above_max_assignments_is_refused_and_nothing_is_written(world: PoolWorld) -> None:
    give_in_review(world.reviewers[0], make_proposal(world.call), 2)
    with pytest.raises(RuleViolation) as caught:
        assign(world, [0, 1])
    assert caught.value.message.endswith(MSG_OVER_WORKLOAD_SUFFIX)
    assert caught.value.body() == {"error": caught.value.message}
    assert AssignmentBatch.select().count() == 0


def test_the_override_assigns_above_max_assignments(world: PoolWorld) -> None:
    give_in_review(world.reviewers[0], make_proposal(world.call), 2)
    answer = assign(world, [0, 1], override_workload_limit=True)
    assert answer["items_created"] == 2
    assert workloads([world.reviewers[0].id], call_id=world.call.id)[world.reviewers[0].id] == 4


def test_exactly_max_assignments_is_allowed(world: PoolWorld) -> None:
    give_in_review(world.reviewers[0], make_proposal(world.call), 1)
    assert assign(world, [0, 1])["items_created"] == 2


def test_coi_blocked_items_do_not_count_against_the_limit(world: PoolWorld) -> None:
    give_in_review(world.reviewers[0], make_proposal(world.call), 2)
    make_conflict(world.call, world.reviewers[0], world.proposals[1])
    assert assign(world, [0, 1])["items_created"] == 2


def test_an_entry_that_is_not_accepted_or_of_another_call_is_not_eligible(world: PoolWorld) -> None:
    ReviewerPoolEntry.update(invitation_status=InvitationStatus.PENDING).where(
        ReviewerPoolEntry.id == world.entries[0].id
    ).execute()
    with pytest.raises(RuleViolation) as caught:
        assign(world, [0])
    assert caught.value.message == MSG_POOL_ENTRY_NOT_ELIGIBLE
    foreign = make_pool_entry(make_call(), world.reviewers[1])
    with pytest.raises(RuleViolation):
        create_manual_assignment(
            world.staff, str(world.call.uuid), str(foreign.uuid), [str(world.proposals[0].uuid)]
        )


def test_unknown_proposals_are_a_validation_error_naming_the_field(world: PoolWorld) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_manual_assignment(
            world.staff, str(world.call.uuid), str(world.entries[0].uuid), ["nope"]
        )
    assert caught.value.body()["error"]["fields"] == ["proposal_uuids"]
    with pytest.raises(ValidationFailed):
        create_manual_assignment(world.staff, str(world.call.uuid), str(world.entries[0].uuid), [])


def test_only_managers_of_the_call_and_staff_may_assign(world: PoolWorld) -> None:
    manager = make_call_manager(world.call)
    answer = answered(
        create_manual_assignment(
            manager,
            str(world.call.uuid),
            str(world.entries[0].uuid),
            [str(world.proposals[0].uuid)],
        )
    )
    assert answer["items_created"] == 1
    with pytest.raises(NotFound):
        create_manual_assignment(
            make_call_manager(make_call()),
            str(world.call.uuid),
            str(world.entries[0].uuid),
            [str(world.proposals[1].uuid)],
        )


def cli_args(world: PoolWorld, *proposals: int) -> list[str]:
    args = ["manual-assign", str(world.call.uuid), "--pool-entry", str(world.entries[0].uuid)]
    for i in proposals:
        args += ["--proposal", str(world.proposals[i].uuid)]
    return args


def test_reviewq_manual_assign_prints_the_answer_as_json(
    world: PoolWorld, runner: CliRunner
) -> None:
    result = runner.invoke(app, [*cli_args(world, 0, 1), "--notes", "hi", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["items_created"] == 2
    assert AssignmentBatch.get(AssignmentBatch.uuid == answer["batch_uuid"]).manager_notes == "hi"


def test_reviewq_manual_assign_refuses_above_the_limit_unless_overridden(
    world: PoolWorld, runner: CliRunner
) -> None:
    give_in_review(world.reviewers[0], make_proposal(world.call), 3)
    refused = runner.invoke(app, cli_args(world, 0))
    assert refused.exit_code == 1
    said = refused.output.replace("\n", " ")  # the CLI names its flag, not the API field
    assert (
        MSG_OVER_WORKLOAD_SUFFIX.replace("override_workload_limit", "--override-workload-limit")
        in said
    )
    forced = runner.invoke(app, [*cli_args(world, 0), "--override-workload-limit"])
    assert forced.exit_code == 0, forced.output
    assert "1 item(s) in draft batch" in forced.stdout
