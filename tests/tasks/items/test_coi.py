"""A manager's answers to conflicts of interest (tasks/items/coi.py)."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from peewee import Database

from store import AssignmentItem, ConflictOfInterest, ItemConflict, Proposal, Review
from store.enums import CoiStatus, ItemStatus, ReviewState
from tasks.errors import (
    MSG_ACCEPT_NOT_PENDING,
    MSG_FORCE_UNBLOCK_NOT_BLOCKED,
    FieldRejected,
    Forbidden,
    NotFound,
    ReviewqError,
    RuleViolation,
)
from tasks.items.answers import accept_item
from tasks.items.coi import decide_conflict, force_unblock
from tasks.results import ConflictDecided
from tests.builders import NOW, Invitation, add_item, fresh, invite, run_at_once
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_conflict,
    make_proposal,
    make_reviewer,
    make_user,
)


def decided(result: ConflictDecided) -> dict[str, Any]:
    """A decision's result with its conflict's uuid and the statuses as strings."""
    return {
        "uuid": str(result.conflict.uuid),
        "status": result.status.value,
        "previous_status": result.previous_status.value,
        "unblocked_item_uuids": result.unblocked_item_uuids,
        "blocked_item_uuids": result.blocked_item_uuids,
        "rejected_review_uuids": result.rejected_review_uuids,
    }


def blocked_item(inv: Invitation) -> tuple[AssignmentItem, ConflictOfInterest]:
    """An item of the invitation blocked by a pending conflict, and that conflict."""
    proposal = make_proposal(inv.call)
    conflict = conflict_for(inv, proposal, CoiStatus.PENDING)
    item: AssignmentItem = make_assignment_item(
        inv.batch, proposal, status=ItemStatus.COI_BLOCKED, has_coi=True
    )
    ItemConflict.create(item=item, conflict=conflict)
    return item, conflict


def conflict_for(inv: Invitation, proposal: Proposal, status: CoiStatus) -> ConflictOfInterest:
    found: ConflictOfInterest = make_conflict(inv.call, inv.reviewer, proposal, status=status)
    return found


# --- force-unblock -------------------------------------------------------------------------


def test_force_unblock_makes_a_blocked_item_pending_and_records_the_override(
    db: Database,
) -> None:
    inv = invite()
    item, _ = blocked_item(inv)

    result = force_unblock(inv.manager, str(item.uuid), "Known, harmless", now=NOW)

    assert (result.item.id, result.status) == (item.id, ItemStatus.PENDING)
    after = fresh(item)
    assert (after.status, after.has_coi) == (ItemStatus.PENDING, False)
    assert (after.override_reason, after.override_by_id, after.override_at) == (
        "Known, harmless",
        inv.manager.id,
        NOW,
    )


def test_a_force_unblocked_item_can_then_be_accepted(db: Database) -> None:
    inv = invite()
    item, _ = blocked_item(inv)
    uuid = str(item.uuid)
    force_unblock(inv.manager, uuid, "Known", now=NOW)

    accept_item(inv.reviewer_user, uuid, now=NOW)

    assert fresh(item).status == ItemStatus.ACCEPTED


@pytest.mark.parametrize("status", [ItemStatus.PENDING, ItemStatus.ACCEPTED, ItemStatus.DECLINED])
def test_only_coi_blocked_items_can_be_force_unblocked(db: Database, status: ItemStatus) -> None:
    inv = invite()
    item = add_item(inv, status=status)

    with pytest.raises(RuleViolation) as caught:
        force_unblock(inv.manager, str(item.uuid), "Because", now=NOW)

    assert caught.value.message == MSG_FORCE_UNBLOCK_NOT_BLOCKED
    assert (fresh(item).status, fresh(item).override_at) == (status, None)


def test_force_unblock_needs_a_reason(db: Database) -> None:
    inv = invite()
    item, _ = blocked_item(inv)

    with pytest.raises(FieldRejected) as caught:
        force_unblock(inv.manager, str(item.uuid), "  ", now=NOW)

    assert caught.value.body() == {"override_reason": ["This field may not be blank."]}
    assert fresh(item).status == ItemStatus.COI_BLOCKED


def test_the_reviewer_may_not_force_unblock_and_a_stranger_does_not_see_the_item(
    db: Database,
) -> None:
    inv = invite()
    item, _ = blocked_item(inv)
    uuid = str(item.uuid)

    with pytest.raises(Forbidden):
        force_unblock(inv.reviewer_user, uuid, "Please", now=NOW)
    with pytest.raises(NotFound):
        force_unblock(make_user(), uuid, "Please", now=NOW)
    assert fresh(item).status == ItemStatus.COI_BLOCKED


# --- conflict decisions --------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["dismissed", "waived"])
def test_dismissing_or_waiving_a_conflict_unblocks_the_items_it_blocked(
    db: Database, decision: str
) -> None:
    inv = invite()
    item, conflict = blocked_item(inv)

    body = decided(decide_conflict(inv.manager, str(conflict.uuid), decision, now=NOW))

    assert body == {
        "uuid": str(conflict.uuid),
        "status": decision,
        "previous_status": "pending",
        "unblocked_item_uuids": [str(item.uuid)],
        "blocked_item_uuids": [],
        "rejected_review_uuids": [],
    }
    after = fresh(item)
    assert (after.status, after.has_coi) == (ItemStatus.PENDING, False)
    assert ConflictOfInterest.get_by_id(conflict.id).status == decision
    accept_item(inv.reviewer_user, str(item.uuid), now=NOW)


def test_an_item_stays_blocked_while_another_blocking_conflict_remains(db: Database) -> None:
    inv = invite()
    item, conflict = blocked_item(inv)
    proposal = Proposal.get_by_id(fresh(item).proposal_id)
    other = ConflictOfInterest.create(
        call=inv.call, reviewer=inv.reviewer, proposal=proposal, coi_type="COAUTHOR"
    )

    body = decided(decide_conflict(inv.manager, str(conflict.uuid), "dismissed", now=NOW))

    assert body["unblocked_item_uuids"] == []
    assert fresh(item).status == ItemStatus.COI_BLOCKED
    links = {link.conflict_id for link in ItemConflict.select().where(ItemConflict.item == item.id)}
    assert links == {conflict.id, other.id}
    decide_conflict(inv.manager, str(other.uuid), "waived", now=NOW)
    assert fresh(item).status == ItemStatus.PENDING


def test_recusal_blocks_the_reviewers_open_items_and_rejects_an_accepted_review(
    db: Database,
) -> None:
    inv = invite()
    proposal = make_proposal(inv.call)
    conflict = conflict_for(inv, proposal, CoiStatus.DISMISSED)
    pending = make_assignment_item(inv.batch, proposal)
    later = make_assignment_batch(inv.call, inv.reviewer, status="sent")
    accepted = make_assignment_item(later, proposal)
    accepted_uuid = str(accepted.uuid)
    accept_item(inv.reviewer_user, accepted_uuid, now=NOW)
    review = Review.get(Review.proposal == proposal.id)
    declined = make_assignment_item(
        make_assignment_batch(inv.call, inv.reviewer, status="sent"),
        proposal,
        status=ItemStatus.DECLINED,
    )
    bystander = make_reviewer()
    theirs = make_assignment_item(make_assignment_batch(inv.call, bystander), proposal)

    body = decided(decide_conflict(inv.manager, str(conflict.uuid), "recused", now=NOW))

    assert sorted(body["blocked_item_uuids"]) == sorted([str(pending.uuid), accepted_uuid])
    assert body["rejected_review_uuids"] == [str(review.uuid)]
    for blocked in (pending, accepted):
        after = fresh(blocked)
        assert (after.status, after.has_coi) == (ItemStatus.COI_BLOCKED, True)
        assert ItemConflict.get(ItemConflict.item == blocked.id).conflict_id == conflict.id
    assert Review.get_by_id(review.id).state == ReviewState.REJECTED
    assert (fresh(declined).status, fresh(theirs).status) == (
        ItemStatus.DECLINED,
        ItemStatus.PENDING,
    )


def test_the_same_recusal_twice_changes_nothing_more(db: Database) -> None:
    inv = invite()
    proposal = make_proposal(inv.call)
    conflict = conflict_for(inv, proposal, CoiStatus.PENDING)
    make_assignment_item(inv.batch, proposal)
    decide_conflict(inv.manager, str(conflict.uuid), "recused", now=NOW)

    body = decided(decide_conflict(inv.manager, str(conflict.uuid), "recused", now=NOW))

    assert (body["previous_status"], body["blocked_item_uuids"]) == ("recused", [])
    assert ItemConflict.select().count() == 1


@pytest.mark.parametrize("status", ["pending", "approved", ""])
def test_a_decision_must_be_dismissed_waived_or_recused(db: Database, status: str) -> None:
    inv = invite()
    _, conflict = blocked_item(inv)

    with pytest.raises(FieldRejected) as caught:
        decide_conflict(inv.manager, str(conflict.uuid), status, now=NOW)

    assert caught.value.field == "status"
    assert ConflictOfInterest.get_by_id(conflict.id).status == CoiStatus.PENDING


def test_only_the_calls_managers_decide_its_conflicts(db: Database) -> None:
    inv = invite()
    _, conflict = blocked_item(inv)
    uuid = str(conflict.uuid)

    for outsider in (inv.reviewer_user, make_user()):
        with pytest.raises(NotFound):
            decide_conflict(outsider, uuid, "dismissed", now=NOW)
    with pytest.raises(NotFound):
        decide_conflict(inv.manager, "00000000-0000-4000-8000-000000000000", "waived")
    staff = make_user(is_staff=True)
    assert decided(decide_conflict(staff, uuid, "waived", now=NOW))["status"] == "waived"


def test_a_recusal_racing_an_accept_leaves_no_live_review(db: Database) -> None:
    inv = invite()
    proposal = make_proposal(inv.call)
    conflict = conflict_for(inv, proposal, CoiStatus.DISMISSED)
    item = make_assignment_item(inv.batch, proposal)

    outcomes = run_at_once(
        partial(accept_item, inv.reviewer_user, str(item.uuid), now=NOW),
        partial(decide_conflict, inv.manager, str(conflict.uuid), "recused", now=NOW),
    )

    accepted, decided = outcomes
    assert not isinstance(decided, ReviewqError)
    if isinstance(accepted, ReviewqError):
        assert accepted.message == MSG_ACCEPT_NOT_PENDING
    assert fresh(item).status == ItemStatus.COI_BLOCKED
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 0
