"""A call manager's answers to conflicts of interest: force-unblock an item, decide a conflict.

A conflict blocks a (reviewer, proposal) pair while `pending` or `recused`. Deciding one takes
the Call row first (store/locks.py), as reassignments do, so no reassignment of the call reads
a conflict that is being decided; then the reviews, then the items it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from store import (
    AssignmentBatch,
    AssignmentItem,
    ConflictOfInterest,
    ItemConflict,
    Review,
    ReviewerPoolEntry,
    User,
    write_transaction,
)
from store.clock import utcnow
from store.enums import CoiStatus, ItemStatus, ReviewState
from store.locks import lock_rows, locked
from tasks.access import is_manager_of, require_manager
from tasks.eligibility import reviewer_conflict_ids
from tasks.errors import (
    MSG_BLANK,
    MSG_FORCE_UNBLOCK_NOT_BLOCKED,
    FieldRejected,
    NotFound,
    RuleViolation,
    not_a_valid_choice,
)
from tasks.results import ConflictDecided, Unblocked
from tasks.rows import find_conflict, find_item, lock_batch_of, lock_call, lock_item, save_item
from tasks.rules import COI_DECISIONS, RECUSABLE_ITEMS


def force_unblock(
    actor: User, item_uuid: str, override_reason: str, now: datetime | None = None
) -> Unblocked:
    """coi_blocked -> pending with has_coi cleared (a call manager), recording
    override_reason, override_by (the actor) and override_at (now), as Waldur does; the item
    may then be accepted despite the conflict. Its conflict records stay linked (the override
    is on the record, so `coi_count` is unchanged). Refuses a blank reason (FieldRejected on
    override_reason), then any other status (MSG_FORCE_UNBLOCK_NOT_BLOCKED). Not idempotent:
    a second force-unblock is refused."""
    current = now or utcnow()
    with write_transaction():
        found = find_item(item_uuid)
        batch = lock_batch_of(found)
        item = lock_item(found.id)
        require_manager(actor, batch)
        if not override_reason.strip():
            raise FieldRejected("override_reason", MSG_BLANK)
        if item.status != ItemStatus.COI_BLOCKED:
            raise RuleViolation(MSG_FORCE_UNBLOCK_NOT_BLOCKED)
        save_item(
            item,
            status=ItemStatus.PENDING,
            has_coi=False,
            override_reason=override_reason,
            override_by=actor.id,
            override_at=current,
        )
    return Unblocked(item, ItemStatus.PENDING)


def decide_conflict(
    actor: User,
    coi_uuid: str,
    status: str,
    now: datetime | None = None,
    *,
    review_notes: str | None = None,
    management_plan: str | None = None,
) -> ConflictDecided:
    """Set a conflict's status to a manager's decision (dismissed, waived or recused).

    dismissed|waived: each coi_blocked item it blocks -> pending (has_coi cleared) when no
    other blocking conflict of that pair remains. recused: that reviewer's pending and accepted
    items for the proposal -> coi_blocked (has_coi, linked to it), an accepted item's review ->
    rejected. Returns the decision, the status it replaced and the uuids of the items
    unblocked or blocked and of the reviews rejected. Idempotent: the same decision again
    changes nothing more. NotFound unless the actor manages the conflict's call. The record
    keeps who decided and when, and the notes and management plan when given (None: kept).
    """
    current = now or utcnow()
    with write_transaction():
        coi = _managed_conflict(actor, coi_uuid)
        decision = _decision(status)
        lock_call(coi.call_id)
        coi = find_conflict(coi_uuid, lock=True)  # NotFound if deleted while we waited
        previous = coi.status
        values: dict[Any, object] = {
            ConflictOfInterest.status: decision,
            ConflictOfInterest.modified: current,
            ConflictOfInterest.reviewed_by: actor.id,
            ConflictOfInterest.reviewed_at: current,
        }
        if review_notes is not None:
            values[ConflictOfInterest.review_notes] = review_notes
        if management_plan is not None:
            values[ConflictOfInterest.management_plan] = management_plan
        ConflictOfInterest.update(values).where(ConflictOfInterest.id == coi.id).execute()
        changes = _recuse(coi) if decision == CoiStatus.RECUSED else _release(coi)
    return ConflictDecided(
        coi,
        decision,
        CoiStatus(previous),
        unblocked_item_uuids=changes.get("unblocked_item_uuids", []),
        blocked_item_uuids=changes.get("blocked_item_uuids", []),
        rejected_review_uuids=changes.get("rejected_review_uuids", []),
    )


def _managed_conflict(actor: User, coi_uuid: str) -> ConflictOfInterest:
    coi = find_conflict(coi_uuid)
    if not is_manager_of(actor, coi.call_id):
        raise NotFound("conflict of interest")
    return coi


def _decision(status: str) -> CoiStatus:
    try:
        decision = CoiStatus(status)
    except ValueError:
        decision = None
    if decision not in COI_DECISIONS:
        raise FieldRejected("status", not_a_valid_choice(status))
    return decision


def _recuse(coi: ConflictOfInterest) -> dict[str, list[str]]:
    """Block the reviewer's pending and accepted items of the proposal; reject their reviews."""
    seen = list(_pair_items(coi, RECUSABLE_ITEMS))
    lock_rows(Review, [i.review_id for i in seen if i.review_id is not None])
    blocked, review_ids = [], []
    for item in _locked_fresh(seen, RECUSABLE_ITEMS):
        if item.status == ItemStatus.ACCEPTED and item.review_id is not None:
            review_ids.append(item.review_id)
        save_item(item, status=ItemStatus.COI_BLOCKED, has_coi=True)
        _link(item, [coi.id])
        blocked.append(str(item.uuid))
    rejected = [str(r.uuid) for r in Review.select().where(Review.id.in_(review_ids))]
    if review_ids:
        Review.update(state=ReviewState.REJECTED).where(Review.id.in_(review_ids)).execute()
    return {"blocked_item_uuids": blocked, "rejected_review_uuids": rejected}


def _release(coi: ConflictOfInterest) -> dict[str, list[str]]:
    """Unblock the pair's coi_blocked items unless another blocking conflict of the pair remains
    (then they stay blocked, linked to it so their coi_count stays true)."""
    blocked = _locked_fresh(
        list(_pair_items(coi, [ItemStatus.COI_BLOCKED])), [ItemStatus.COI_BLOCKED]
    )
    remaining = reviewer_conflict_ids(coi.reviewer_id, [coi.proposal_id]).get(coi.proposal_id)
    if remaining:
        for item in blocked:
            _link(item, remaining)
        return {}
    for item in blocked:
        save_item(item, status=ItemStatus.PENDING, has_coi=False)
    return {"unblocked_item_uuids": [str(item.uuid) for item in blocked]}


def _pair_items(coi: ConflictOfInterest, statuses: Sequence[ItemStatus]) -> Any:
    """The items of the conflict's (reviewer, proposal) pair in these statuses (not locked)."""
    return (
        AssignmentItem.select()
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(
            ReviewerPoolEntry.reviewer == coi.reviewer_id,
            AssignmentItem.proposal == coi.proposal_id,
            AssignmentItem.status.in_(list(statuses)),
        )
    )


def _locked_fresh(
    seen: list[AssignmentItem], statuses: Sequence[ItemStatus]
) -> list[AssignmentItem]:
    """These items locked in id order, re-read, keeping those still in `statuses`."""
    if not seen:
        return []
    query = AssignmentItem.select().where(
        AssignmentItem.id.in_([i.id for i in seen]), AssignmentItem.status.in_(list(statuses))
    )
    return list(locked(query.order_by(AssignmentItem.id)))


def _link(item: AssignmentItem, conflict_ids: Sequence[int]) -> None:
    rows = [{"item": item.id, "conflict": cid} for cid in conflict_ids]
    ItemConflict.insert_many(rows).on_conflict_ignore().execute()
