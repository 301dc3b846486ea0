"""generate-assignments as a use case, on SQLite and PostgreSQL: what it creates and reuses,
who is eligible and how much room they have, who may run it, and two runs at once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from peewee import Database

import tasks.batches.generate as generate_module
from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ItemConflict,
    Reviewer,
    ReviewerPoolEntry,
)
from store.db import database
from store.enums import (
    BatchSource,
    BatchStatus,
    CoiStatus,
    InvitationStatus,
    ItemStatus,
    ProposalState,
)
from store.workload import workloads
from tasks.batches.generate import generate_assignments
from tasks.errors import NotFound
from tests.builders import PoolWorld, build_pool_world, pending_items, reviewers_per_proposal
from tests.factories import (
    give_in_review,
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_conflict,
    make_proposal,
    make_user,
)

ANSWER_KEYS = ["batches_created", "items_created", "proposals_processed", "skipped_proposals"]


@pytest.fixture
def world(db: Database) -> PoolWorld:
    """A call and its pool before any batch (instead of the conftest\'s batch world)."""
    return build_pool_world()


def drafts_per_entry(call: Call) -> Counter[tuple[int, BatchSource]]:
    drafts = AssignmentBatch.select().where(
        AssignmentBatch.call == call.id, AssignmentBatch.status == BatchStatus.DRAFT
    )
    return Counter((b.reviewer_pool_entry_id, b.source) for b in drafts)


def test_generate_answers_with_the_interface_shape(world: PoolWorld) -> None:
    answer = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert list(answer) == ANSWER_KEYS
    assert answer == {
        "batches_created": 3,
        "items_created": 6,
        "proposals_processed": 3,
        "skipped_proposals": [],
    }


def test_every_proposal_gets_k_reviewers_in_one_algorithm_draft_per_reviewer(
    world: PoolWorld,
) -> None:
    generate_assignments(world.staff, str(world.call.uuid))
    assert set(reviewers_per_proposal(world.call).values()) == {2}
    assert set(drafts_per_entry(world.call).values()) == {1}
    for batch in AssignmentBatch.select():
        assert batch.source == BatchSource.ALGORITHM
        assert batch.status == BatchStatus.DRAFT
        assert batch.created_by_id == world.staff.id
    pairs = {
        (i.batch.reviewer_pool_entry.reviewer_id, i.proposal_id) for i in pending_items(world.call)
    }
    assert len(pairs) == 6


def test_an_existing_algorithm_draft_of_the_reviewer_is_reused(world: PoolWorld) -> None:
    existing = make_assignment_batch(world.call, world.reviewers[0], source=BatchSource.ALGORITHM)
    answer = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert answer["batches_created"] == 2
    assert drafts_per_entry(world.call)[(world.entries[0].id, BatchSource.ALGORITHM)] == 1
    assert AssignmentItem.select().where(AssignmentItem.batch == existing.id).count() == 2


def test_a_manual_draft_is_left_alone_and_its_items_count(world: PoolWorld) -> None:
    manual = make_assignment_batch(world.call, world.reviewers[0], source=BatchSource.MANUAL)
    make_assignment_item(manual, world.proposals[0])
    answer = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert answer["items_created"] == 5
    assert AssignmentItem.select().where(AssignmentItem.batch == manual.id).count() == 1
    assert reviewers_per_proposal(world.call)[world.proposals[0].id] == 2


def test_running_generate_twice_creates_nothing_the_second_time(world: PoolWorld) -> None:
    generate_assignments(world.staff, str(world.call.uuid))
    again = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert again == {
        "batches_created": 0,
        "items_created": 0,
        "proposals_processed": 3,
        "skipped_proposals": [],
    }
    assert AssignmentItem.select().count() == 6


def test_reviewers_a_proposal_already_has_lower_its_demand(world: PoolWorld) -> None:
    give_in_review(world.reviewers[0], world.proposals[0])
    answer = generate_assignments(world.staff, str(world.call.uuid)).to_json()
    assert answer["items_created"] == 5
    first = [i for i in pending_items(world.call) if i.proposal_id == world.proposals[0].id]
    assert len(first) == 1
    assert first[0].batch.reviewer_pool_entry_id != world.entries[0].id


def test_capacity_counts_the_workload_the_reviewer_has_in_the_call(world: PoolWorld) -> None:
    other = make_proposal(world.call, state=ProposalState.ACCEPTED)
    give_in_review(world.reviewers[0], other, 2)
    generate_assignments(world.staff, str(world.call.uuid))
    loads = workloads([r.id for r in world.reviewers], call_id=world.call.id)
    assert loads[world.reviewers[0].id] == 2
    assert all(load <= 2 for load in loads.values())


def test_blocking_conflicts_declines_and_past_items_exclude_a_reviewer(db: Database) -> None:
    w = build_pool_world(n_proposals=1, n_reviewers=5, k=3)
    proposal = w.proposals[0]
    make_conflict(w.call, w.reviewers[0], proposal, CoiStatus.PENDING)
    make_conflict(w.call, w.reviewers[1], proposal, CoiStatus.RECUSED)
    make_conflict(w.call, w.reviewers[2], proposal, CoiStatus.WAIVED)
    old = make_assignment_batch(w.call, w.reviewers[3], status=BatchStatus.RESPONDED)
    make_assignment_item(old, proposal, status=ItemStatus.DECLINED)
    answer = generate_assignments(w.staff, str(w.call.uuid)).to_json()
    chosen = {i.batch.reviewer_pool_entry.reviewer_id for i in pending_items(w.call)}
    assert chosen == {w.reviewers[2].id, w.reviewers[4].id}
    assert answer["skipped_proposals"] == [
        {
            "proposal_uuid": str(proposal.uuid),
            "proposal_name": proposal.name,
            "reason": "fewer eligible reviewers than required",
        }
    ]


def test_a_conflict_that_appears_before_the_write_makes_a_linked_coi_blocked_item(
    world: PoolWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    coi = make_conflict(world.call, world.reviewers[0], world.proposals[0])
    monkeypatch.setattr(generate_module, "excluded_pairs", lambda call, ids: {})
    generate_assignments(world.staff, str(world.call.uuid), reviewers_per_proposal=3)
    item = AssignmentItem.get(
        AssignmentItem.proposal == world.proposals[0].id,
        AssignmentItem.batch.in_(
            AssignmentBatch.select(AssignmentBatch.id).where(
                AssignmentBatch.reviewer_pool_entry == world.entries[0].id
            )
        ),
    )
    assert (item.status, item.has_coi) == (ItemStatus.COI_BLOCKED, True)
    assert [link.conflict_id for link in ItemConflict.select()] == [coi.id]


def test_unavailable_reviewers_and_unaccepted_entries_get_nothing(world: PoolWorld) -> None:
    Reviewer.update(available_for_reviews=False).where(
        Reviewer.id == world.reviewers[0].id
    ).execute()
    ReviewerPoolEntry.update(invitation_status=InvitationStatus.PENDING).where(
        ReviewerPoolEntry.id == world.entries[1].id
    ).execute()
    generate_assignments(world.staff, str(world.call.uuid))
    entries = {i.batch.reviewer_pool_entry_id for i in pending_items(world.call)}
    assert entries == {world.entries[2].id}


def test_a_manager_of_the_call_may_generate_and_anyone_else_gets_not_found(
    world: PoolWorld,
) -> None:
    manager = make_call_manager(world.call)
    assert generate_assignments(manager, str(world.call.uuid)).to_json()["items_created"] == 6
    with pytest.raises(NotFound):
        generate_assignments(make_user(), str(world.call.uuid))
    with pytest.raises(NotFound):
        generate_assignments(make_call_manager(make_call()), str(world.call.uuid))


def test_the_call_may_be_named_by_its_external_id(db: Database) -> None:
    w = build_pool_world()
    Call.update(external_id="call_ext").where(Call.id == w.call.id).execute()
    assert generate_assignments(w.staff, "call_ext").to_json()["items_created"] == 6


def test_a_call_with_nothing_to_assign_answers_zeros(db: Database) -> None:
    call = make_call()
    answer = generate_assignments(make_user(is_staff=True), str(call.uuid)).to_json()
    assert answer == {
        "batches_created": 0,
        "items_created": 0,
        "proposals_processed": 0,
        "skipped_proposals": [],
    }


def test_accepted_reviews_are_not_assigned_again(world: PoolWorld) -> None:
    generate_assignments(world.staff, str(world.call.uuid))
    item = pending_items(world.call)[0]
    AssignmentItem.update(status=ItemStatus.ACCEPTED).where(AssignmentItem.id == item.id).execute()
    assert generate_assignments(world.staff, str(world.call.uuid)).to_json()["items_created"] == 0


def run_concurrently(world: PoolWorld, runs: int = 2) -> list[dict[str, Any]]:
    """Run generate from `runs` threads at once, each on its own connection."""
    barrier = threading.Barrier(runs)
    answers: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            answers.append(generate_assignments(world.staff, str(world.call.uuid)).to_json())
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=worker) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return answers


def test_two_generates_at_once_leave_the_second_only_what_the_first_left(db: Database) -> None:
    w = build_pool_world(n_proposals=8, n_reviewers=5, k=3, cap=4)
    answers = run_concurrently(w)
    assert sorted(a["items_created"] for a in answers) == [0, 20]
    assert sorted(a["batches_created"] for a in answers) == [0, 5]
    assert max(reviewers_per_proposal(w.call).values()) <= 3
    assert max(workloads([r.id for r in w.reviewers], call_id=w.call.id).values()) <= 4
    assert set(drafts_per_entry(w.call).values()) == {1}


def test_concurrent_generates_on_a_partly_filled_call_never_overfill(db: Database) -> None:
    w = build_pool_world(n_proposals=6, n_reviewers=6, k=2, cap=3)
    batch = make_assignment_batch(w.call, w.reviewers[0], source=BatchSource.ALGORITHM)
    make_assignment_item(batch, w.proposals[0])
    answers = run_concurrently(w, runs=3)
    assert sum(a["items_created"] for a in answers) == 11
    assert set(reviewers_per_proposal(w.call).values()) == {2}
    assert set(drafts_per_entry(w.call).values()) == {1}


def test_a_reviewer_whose_cancelled_draft_held_the_proposal_is_not_proposed_again(
    world: PoolWorld,
) -> None:
    generate_assignments(world.staff, str(world.call.uuid), reviewers_per_proposal=1)
    first = pending_items(world.call)[0]
    AssignmentBatch.update(status=BatchStatus.CANCELLED).where(
        AssignmentBatch.id == first.batch_id
    ).execute()
    generate_assignments(world.staff, str(world.call.uuid), reviewers_per_proposal=1)
    again = [i for i in pending_items(world.call) if i.proposal_id == first.proposal_id]
    entries = {i.batch.reviewer_pool_entry_id for i in again if i.id != first.id}
    assert len(entries) == 1
    assert first.batch.reviewer_pool_entry_id not in entries
