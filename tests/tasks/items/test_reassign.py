"""A manager's reassignment of declined and expired items and its suggestions
(tasks/items/reassign.py): eligibility, capacity, permissions and races."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from peewee import Database

from api.serializers.answers import reassigned_out, suggestions_out
from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ItemConflict,
    ReviewerPoolEntry,
)
from store.enums import (
    BatchSource,
    BatchStatus,
    CoiStatus,
    InvitationStatus,
    ItemStatus,
)
from store.workload import workloads
from tasks.errors import (
    MSG_POOL_ENTRY_NOT_ELIGIBLE,
    MSG_REASSIGN_NOT_ALLOWED,
    MSG_REASSIGNED,
    MSG_REVIEWER_HAS_PROPOSAL,
    Forbidden,
    NotFound,
    ReviewqError,
)
from tasks.items.reassign import reassign_item, suggest_alternatives
from tests.builders import NOW, Invitation, declined, fresh, proposal_of, refusal, run_at_once
from tests.factories import (
    candidate,
    give_in_review,
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_conflict,
    make_proposal,
    make_review,
    make_user,
)


def reassign(inv: Invitation, item: AssignmentItem, entry: ReviewerPoolEntry, **kw: Any) -> Any:
    return reassign_item(inv.manager, str(item.uuid), str(entry.uuid), now=NOW, **kw)


# --- the manager's reassignment ------------------------------------------------------------


def test_a_declined_item_moves_to_a_new_draft_batch_of_the_target(db: Database) -> None:
    inv, old = declined()
    target = candidate(inv.call, proposal_of(old), 0.7)

    reassigned = reassign(inv, old, target, manager_notes="Please help")
    result = reassigned_out(reassigned).model_dump(mode="json")

    new = AssignmentItem.get(AssignmentItem.uuid == result["new_item_uuid"])
    batch = AssignmentBatch.get(AssignmentBatch.uuid == result["new_batch_uuid"])
    assert result == {
        "detail": MSG_REASSIGNED,
        "new_item_uuid": str(new.uuid),
        "new_batch_uuid": str(batch.uuid),
        "has_coi": False,
    }
    assert fresh(old).status == ItemStatus.REASSIGNED
    assert (new.status, new.batch_id, new.proposal_id) == (
        ItemStatus.PENDING,
        batch.id,
        old.proposal_id,
    )
    assert (new.reassigned_from_id, new.reassign_count, new.affinity_score) == (old.id, 1, 0.7)
    assert (batch.status, batch.source, batch.reviewer_pool_entry_id) == (
        BatchStatus.DRAFT,
        BatchSource.MANUAL,
        target.id,
    )
    assert (batch.created_by_id, batch.manager_notes) == (inv.manager.id, "Please help")
    assert reassigned.notification_ids == []


def test_an_expired_item_can_be_reassigned_and_the_chain_count_grows(db: Database) -> None:
    inv, old = declined(status=ItemStatus.EXPIRED, reassign_count=2)
    target = candidate(inv.call)

    result = reassigned_out(reassign(inv, old, target)).model_dump(mode="json")

    new = AssignmentItem.get(AssignmentItem.uuid == result["new_item_uuid"])
    assert (new.reassign_count, new.affinity_score) == (3, None)


def test_a_target_with_a_blocking_conflict_gets_the_item_coi_blocked(db: Database) -> None:
    inv, old = declined()
    target = candidate(inv.call)
    conflict = make_conflict(inv.call, target.reviewer, proposal_of(old))

    result = reassigned_out(reassign(inv, old, target)).model_dump(mode="json")

    assert result["has_coi"] is True
    new = AssignmentItem.get(AssignmentItem.uuid == result["new_item_uuid"])
    assert (new.status, new.has_coi) == (ItemStatus.COI_BLOCKED, True)
    assert [link.conflict_id for link in ItemConflict.select()] == [conflict.id]


@pytest.mark.parametrize(
    "status",
    [ItemStatus.PENDING, ItemStatus.ACCEPTED, ItemStatus.REASSIGNED, ItemStatus.COI_BLOCKED],
)
def test_only_declined_or_expired_items_can_be_reassigned(db: Database, status: ItemStatus) -> None:
    inv, old = declined(status=status)
    target = candidate(inv.call)

    assert refusal(lambda: reassign(inv, old, target)) == MSG_REASSIGN_NOT_ALLOWED
    assert (fresh(old).status, AssignmentBatch.select().count()) == (status, 1)


@pytest.mark.parametrize(
    "kind", ["other call", "invitation pending", "invitation declined", "unknown", "garbage"]
)
def test_the_target_must_be_an_accepted_pool_entry_of_the_call(db: Database, kind: str) -> None:
    inv, old = declined()
    tokens: dict[str, Callable[[], str]] = {
        "other call": lambda: str(candidate(make_call()).uuid),
        "invitation pending": lambda: str(
            candidate(inv.call, invitation_status=InvitationStatus.PENDING).uuid
        ),
        "invitation declined": lambda: str(
            candidate(inv.call, invitation_status=InvitationStatus.DECLINED).uuid
        ),
        "unknown": lambda: "00000000-0000-4000-8000-000000000000",
        "garbage": lambda: "entry-1",
    }
    token = tokens[kind]()

    message = refusal(lambda: reassign_item(inv.manager, str(old.uuid), token, now=NOW))

    assert message == MSG_POOL_ENTRY_NOT_ELIGIBLE
    assert fresh(old).status == ItemStatus.DECLINED


def test_a_target_at_capacity_in_the_call_is_not_eligible_until_work_leaves(
    db: Database,
) -> None:
    inv, old = declined()
    target = candidate(inv.call, max_assignments=2)
    give_in_review(target.reviewer, make_proposal(inv.call))
    busy = make_assignment_batch(inv.call, target.reviewer, status=BatchStatus.SENT)
    make_assignment_item(busy, make_proposal(inv.call))

    assert refusal(lambda: reassign(inv, old, target)) == MSG_POOL_ENTRY_NOT_ELIGIBLE

    AssignmentBatch.update(status=BatchStatus.CANCELLED).where(
        AssignmentBatch.id == busy.id
    ).execute()
    assert (
        reassigned_out(reassign(inv, old, target)).model_dump(mode="json")["detail"]
        == MSG_REASSIGNED
    )


def test_work_in_other_calls_does_not_count_against_capacity(db: Database) -> None:
    inv, old = declined()
    target = candidate(inv.call, max_assignments=1)
    give_in_review(target.reviewer, make_proposal(make_call()), count=3)

    assert (
        reassigned_out(reassign(inv, old, target)).model_dump(mode="json")["detail"]
        == MSG_REASSIGNED
    )


@pytest.mark.parametrize("held", ["declined item", "cancelled item", "review", "decliner"])
def test_a_reviewer_who_has_or_had_the_proposal_cannot_get_it(db: Database, held: str) -> None:
    inv, old = declined()
    proposal = proposal_of(old)
    target = candidate(inv.call)
    if held == "declined item":
        other = make_assignment_batch(inv.call, target.reviewer, status=BatchStatus.SENT)
        make_assignment_item(other, proposal, status=ItemStatus.DECLINED)
    elif held == "cancelled item":
        other = make_assignment_batch(inv.call, target.reviewer, status=BatchStatus.CANCELLED)
        make_assignment_item(other, proposal)
    elif held == "review":
        make_review(proposal, reviewer=target.reviewer)
    else:
        target = ReviewerPoolEntry.get_by_id(inv.batch.reviewer_pool_entry_id)

    assert refusal(lambda: reassign(inv, old, target)) == MSG_REVIEWER_HAS_PROPOSAL
    assert AssignmentItem.select().count() == (1 if held in ("review", "decliner") else 2)


def test_the_reviewer_may_not_reassign_and_a_stranger_does_not_see_the_item(
    db: Database,
) -> None:
    inv, old = declined()
    target = candidate(inv.call)

    with pytest.raises(Forbidden):
        reassign_item(inv.reviewer_user, str(old.uuid), str(target.uuid), now=NOW)
    with pytest.raises(NotFound):
        reassign_item(make_user(), str(old.uuid), str(target.uuid), now=NOW)
    assert fresh(old).status == ItemStatus.DECLINED


# --- suggestions ---------------------------------------------------------------------------


def test_suggestions_rank_by_affinity_then_lower_workload(db: Database) -> None:
    inv, old = declined()
    proposal = proposal_of(old)
    busy = candidate(inv.call, proposal, 0.9, max_assignments=4)
    give_in_review(busy.reviewer, make_proposal(inv.call))
    idle = candidate(inv.call, proposal, 0.9)
    weaker = candidate(inv.call, proposal, 0.5)
    unscored = candidate(inv.call)

    body = suggestions_out(suggest_alternatives(inv.manager, str(old.uuid))).model_dump(mode="json")

    ranked = [s["uuid"] for s in body["suggestions"]]
    assert ranked == [str(e.uuid) for e in (idle, busy, weaker, unscored)]
    assert body["suggestions"][1] == {
        "pool_entry_uuid": str(busy.uuid),
        "current_assignments": 1,
        "max_assignments": 4,
        "uuid": str(busy.uuid),
        "reviewer_uuid": str(busy.reviewer.uuid),
        "reviewer_name": busy.reviewer.name,
        "affinity_score": 0.9,
        "workload": 1,
        "capacity_left": 3,
    }
    assert (body["item_uuid"], body["proposal_uuid"]) == (str(old.uuid), str(proposal.uuid))


def test_suggestions_leave_out_every_ineligible_reviewer(db: Database) -> None:
    inv, old = declined(Call.create(name="Strict", min_affinity_threshold=0.3))
    proposal = proposal_of(old)
    good = candidate(inv.call, proposal, 0.4)
    conflicted = candidate(inv.call, proposal, 0.9)
    make_conflict(inv.call, conflicted.reviewer, proposal)
    waived = candidate(inv.call, proposal, 0.35)
    make_conflict(inv.call, waived.reviewer, proposal, status=CoiStatus.WAIVED)
    reviewing = candidate(inv.call, proposal, 0.9)
    make_review(proposal, reviewer=reviewing.reviewer)
    candidate(inv.call, proposal, 0.9, invitation_status=InvitationStatus.PENDING)
    candidate(inv.call, proposal, 0.9, reviewer_fields={"available_for_reviews": False})
    full = candidate(inv.call, proposal, 0.9, max_assignments=1)
    give_in_review(full.reviewer, make_proposal(inv.call))
    candidate(inv.call, proposal, 0.2)

    body = suggestions_out(suggest_alternatives(inv.manager, str(old.uuid))).model_dump(mode="json")

    assert [s["uuid"] for s in body["suggestions"]] == [str(good.uuid), str(waived.uuid)]


def test_suggestions_stop_at_the_limit_and_are_for_managers_only(db: Database) -> None:
    inv, old = declined()
    for score in (0.1, 0.2, 0.3):
        candidate(inv.call, proposal_of(old), score)

    body = suggestions_out(suggest_alternatives(inv.manager, str(old.uuid), limit=2)).model_dump(
        mode="json"
    )

    assert [s["affinity_score"] for s in body["suggestions"]] == [0.3, 0.2]
    with pytest.raises(Forbidden):
        suggest_alternatives(inv.reviewer_user, str(old.uuid))


# --- races (threads, each with its own connection) -----------------------------------------


def test_two_concurrent_reassignments_of_one_item_make_exactly_one_successor(
    db: Database,
) -> None:
    for _ in range(3):
        inv, old = declined()
        a, b = candidate(inv.call), candidate(inv.call)

        outcomes = run_at_once(partial(reassign, inv, old, a), partial(reassign, inv, old, b))

        refused = [o for o in outcomes if isinstance(o, ReviewqError)]
        assert [r.message for r in refused] == [MSG_REASSIGN_NOT_ALLOWED]
        assert AssignmentItem.select().where(AssignmentItem.reassigned_from == old.id).count() == 1


def test_concurrent_reassignments_to_one_reviewer_never_exceed_their_capacity(
    db: Database,
) -> None:
    call = make_call()
    target = candidate(call, max_assignments=2)
    olds = [declined(call) for _ in range(4)]

    outcomes = run_at_once(*(partial(reassign, inv, old, target) for inv, old in olds))

    refused = [o.message for o in outcomes if isinstance(o, ReviewqError)]
    assert refused == [MSG_POOL_ENTRY_NOT_ELIGIBLE] * 2
    assert workloads([target.reviewer_id], call_id=call.id)[target.reviewer_id] == 2
