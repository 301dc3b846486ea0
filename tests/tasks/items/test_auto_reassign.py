"""Automatic reassignment (tasks/items/reassign.py): a declined item goes at once to the best
eligible reviewer, an expired one when the scheduler asks, within capacity and the call's limits."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from peewee import Database

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    Notification,
    ReviewerPoolEntry,
)
from store.enums import (
    BatchSource,
    BatchStatus,
    ItemStatus,
    NotificationKind,
)
from store.workload import workloads
from tasks.errors import (
    ReviewqError,
)
from tasks.items.answers import decline_item
from tasks.items.reassign import auto_reassign_expired
from tests.builders import NOW, add_item, fresh, invite, of_kind, proposal_of, run_at_once
from tests.factories import (
    candidate,
    give_in_review,
    make_affinity,
    make_call,
    make_conflict,
    make_proposal,
    make_user,
)

# --- automatic reassignment ----------------------------------------------------------------


def auto_call(**fields: Any) -> Call:
    return make_call(auto_reassign_on_decline=True, **fields)


def successor(item: AssignmentItem) -> AssignmentItem | None:
    found: AssignmentItem | None = AssignmentItem.get_or_none(
        AssignmentItem.reassigned_from == item.id
    )
    return found


def reviewer_of(item: AssignmentItem) -> int:
    batch = AssignmentBatch.get_by_id(item.batch_id)
    return int(ReviewerPoolEntry.get_by_id(batch.reviewer_pool_entry_id).reviewer_id)


def test_a_decline_goes_at_once_to_the_best_reviewer_in_a_sent_batch(db: Database) -> None:
    inv = invite(auto_call(assignment_expiration_days=5))
    item = add_item(inv)
    best = candidate(inv.call, proposal_of(item), 0.9)
    candidate(inv.call, proposal_of(item), 0.5)

    result = decline_item(inv.reviewer_user, str(item.uuid), now=NOW)

    new = successor(item)
    assert new is not None
    batch = AssignmentBatch.get_by_id(new.batch_id)
    assert fresh(item).status == ItemStatus.REASSIGNED
    assert (new.status, new.reassign_count, batch.reviewer_pool_entry_id) == (
        ItemStatus.PENDING,
        1,
        best.id,
    )
    assert (batch.status, batch.source, batch.sent_at) == (
        BatchStatus.SENT,
        BatchSource.ALGORITHM,
        NOW,
    )
    assert batch.expires_at == NOW + timedelta(days=5)
    invitations = of_kind(result.notification_ids, NotificationKind.INVITATION)
    [mail] = Notification.select().where(Notification.id.in_(invitations))
    assert (mail.kind, mail.recipient) == (NotificationKind.INVITATION, best.reviewer.email)


def test_automatic_reassignment_never_goes_back_to_a_reviewer_who_declined(
    db: Database,
) -> None:
    inv = invite(auto_call())
    item = add_item(inv)
    proposal = proposal_of(item)
    make_affinity(inv.call, inv.reviewer, proposal, 0.99)
    first = candidate(inv.call, proposal, 0.9, reviewer_fields={"user": make_user()})
    second = candidate(inv.call, proposal, 0.5)

    decline_item(inv.reviewer_user, str(item.uuid), now=NOW)
    hop = successor(item)
    assert hop is not None and reviewer_of(hop) == first.reviewer_id
    decline_item(first.reviewer.user, str(hop.uuid), now=NOW)

    last = successor(hop)
    assert last is not None and reviewer_of(last) == second.reviewer_id


def test_automatic_reassignment_stops_after_the_calls_maximum_along_a_chain(
    db: Database,
) -> None:
    inv = invite(auto_call(max_auto_reassign_attempts=1))
    item = add_item(inv)
    first = candidate(inv.call, proposal_of(item), 0.9, reviewer_fields={"user": make_user()})
    candidate(inv.call, proposal_of(item), 0.5)

    decline_item(inv.reviewer_user, str(item.uuid), now=NOW)
    hop = successor(item)
    assert hop is not None and reviewer_of(hop) == first.reviewer_id
    result = decline_item(first.reviewer.user, str(hop.uuid), now=NOW)

    assert (
        of_kind(result.notification_ids, NotificationKind.INVITATION),
        successor(hop),
        fresh(hop).status,
    ) == (
        [],
        None,
        ItemStatus.DECLINED,
    )


def test_automatic_reassignment_passes_over_reviewers_at_capacity(db: Database) -> None:
    inv = invite(auto_call())
    item = add_item(inv)
    full = candidate(inv.call, proposal_of(item), 0.9, max_assignments=1)
    give_in_review(full.reviewer, make_proposal(inv.call))
    other = candidate(inv.call, proposal_of(item), 0.2)

    decline_item(inv.reviewer_user, str(item.uuid), now=NOW)

    new = successor(item)
    assert new is not None and reviewer_of(new) == other.reviewer_id


def test_without_an_eligible_reviewer_the_declined_item_stays_declined(db: Database) -> None:
    inv = invite(auto_call())
    item = add_item(inv)
    conflicted = candidate(inv.call, proposal_of(item), 0.9)
    make_conflict(inv.call, conflicted.reviewer, proposal_of(item))

    result = decline_item(inv.reviewer_user, str(item.uuid), now=NOW)

    assert (of_kind(result.notification_ids, NotificationKind.INVITATION), fresh(item).status) == (
        [],
        ItemStatus.DECLINED,
    )


def test_a_call_without_automatic_reassignment_leaves_a_declined_item_alone(
    db: Database,
) -> None:
    inv = invite()
    item = add_item(inv)
    candidate(inv.call, proposal_of(item), 0.9)

    result = decline_item(inv.reviewer_user, str(item.uuid), now=NOW)

    assert (of_kind(result.notification_ids, NotificationKind.INVITATION), fresh(item).status) == (
        [],
        ItemStatus.DECLINED,
    )
    assert AssignmentBatch.select().count() == 1


def test_expired_items_are_reassigned_for_the_scheduler_once(db: Database) -> None:
    inv = invite(auto_call(), status=BatchStatus.EXPIRED)
    expired = add_item(inv, status=ItemStatus.EXPIRED)
    pending = add_item(inv)
    target = candidate(inv.call, make_proposal(inv.call))
    make_affinity(inv.call, target.reviewer, proposal_of(expired), 0.8)
    make_affinity(inv.call, target.reviewer, proposal_of(pending), 0.8)

    ids = auto_reassign_expired([expired.id, pending.id, 999_999], now=NOW)

    new = successor(expired)
    assert new is not None and reviewer_of(new) == target.reviewer_id
    assert AssignmentBatch.get_by_id(new.batch_id).status == BatchStatus.SENT
    assert Notification.select().where(Notification.id.in_(ids)).count() == 1
    assert (successor(pending), fresh(pending).status) == (None, ItemStatus.PENDING)
    assert auto_reassign_expired([expired.id], now=NOW) == []


def test_expired_items_of_a_call_without_automatic_reassignment_stay_expired(
    db: Database,
) -> None:
    inv = invite(status=BatchStatus.EXPIRED)
    expired = add_item(inv, status=ItemStatus.EXPIRED)
    candidate(inv.call, proposal_of(expired), 0.8)

    assert auto_reassign_expired([expired.id], now=NOW) == []
    assert fresh(expired).status == ItemStatus.EXPIRED


# --- races (threads, each with its own connection) -----------------------------------------


def test_concurrent_declines_reassign_automatically_within_capacity(db: Database) -> None:
    call = auto_call(min_affinity_threshold=0.5)
    target = candidate(call, max_assignments=1)
    invitations = []
    for _ in range(3):
        inv = invite(call)
        item = add_item(inv)
        make_affinity(call, target.reviewer, proposal_of(item), 0.9)
        invitations.append((inv, item))

    outcomes = run_at_once(
        *(
            partial(decline_item, inv.reviewer_user, str(item.uuid), now=NOW)
            for inv, item in invitations
        )
    )

    assert not [o for o in outcomes if isinstance(o, ReviewqError)]
    statuses = sorted(fresh(item).status.value for _, item in invitations)
    assert statuses == ["declined", "declined", "reassigned"]
    assert workloads([target.reviewer_id], call_id=call.id)[target.reviewer_id] == 1
