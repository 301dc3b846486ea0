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
from store.lookups import find_by_uuid
from tasks.access import is_manager_of, require_manager
from tasks.batches.create import blocking_conflict_ids
from tasks.errors import (
    MSG_FORCE_UNBLOCK_NOT_BLOCKED,
    MSG_FORCE_UNBLOCKED,
    FieldRejected,
    NotFound,
    RuleViolation,
)
from tasks.items.reassign import lock_call, lock_item, save_item
from tasks.results import ActionResult

DECISIONS = (CoiStatus.DISMISSED, CoiStatus.WAIVED, CoiStatus.RECUSED)
RECUSABLE = (ItemStatus.PENDING, ItemStatus.ACCEPTED)
MSG_BLANK = "This field may not be blank."


def force_unblock(
    actor: User, item_uuid: str, override_reason: str, now: datetime | None = None
) -> ActionResult:
    """coi_blocked -> pending (a call manager), recording override_reason, override_by (the
    actor) and override_at (now); the item keeps has_coi and may then be accepted despite the
    conflict. Refuses a blank reason (FieldRejected on override_reason), then any other status
    (MSG_FORCE_UNBLOCK_NOT_BLOCKED). Not idempotent: a second force-unblock is refused."""
    current = now or utcnow()
    with write_transaction():
        found = find_by_uuid(AssignmentItem, item_uuid)
        if found is None:
            raise NotFound("assignment item")
        batch = locked(AssignmentBatch.select().where(AssignmentBatch.id == found.batch_id)).get()
        item = lock_item(found.id)
        require_manager(actor, batch)
        if not override_reason.strip():
            raise FieldRejected("override_reason", MSG_BLANK)
        if item.status != ItemStatus.COI_BLOCKED:
            raise RuleViolation(MSG_FORCE_UNBLOCK_NOT_BLOCKED)
        save_item(
            item,
            status=ItemStatus.PENDING,
            override_reason=override_reason,
            override_by=actor.id,
            override_at=current,
        )
    return ActionResult({"detail": MSG_FORCE_UNBLOCKED, "status": ItemStatus.PENDING.value})


def decide_conflict(
    actor: User, coi_uuid: str, status: str, now: datetime | None = None
) -> ActionResult:
    """Set a conflict's status to a manager's decision (dismissed, waived or recused).

    dismissed|waived: each coi_blocked item it blocks -> pending (has_coi cleared) when no
    other blocking conflict of that pair remains. recused: that reviewer's pending and accepted
    items for the proposal -> coi_blocked (has_coi, linked to it), an accepted item's review ->
    rejected. Answers `{"uuid", "status", "previous_status", "unblocked_item_uuids",
    "blocked_item_uuids", "rejected_review_uuids"}`. Idempotent: the same decision again
    changes nothing more. NotFound unless the actor manages the conflict's call.
    """
    current = now or utcnow()
    with write_transaction():
        coi = _managed_conflict(actor, coi_uuid)
        decision = _decision(status)
        lock_call(coi.call_id)
        fresh = find_by_uuid(ConflictOfInterest, coi_uuid, lock=True)
        if fresh is None:  # deleted while we waited for the call's lock
            raise NotFound("conflict of interest")
        coi = fresh
        previous = coi.status
        ConflictOfInterest.update(status=decision, modified=current).where(
            ConflictOfInterest.id == coi.id
        ).execute()
        changes = _recuse(coi) if decision == CoiStatus.RECUSED else _release(coi)
    body: dict[str, Any] = {
        "uuid": str(coi.uuid),
        "status": decision.value,
        "previous_status": CoiStatus(previous).value,
        "unblocked_item_uuids": [],
        "blocked_item_uuids": [],
        "rejected_review_uuids": [],
        **changes,
    }
    return ActionResult(body)


def _managed_conflict(actor: User, coi_uuid: str) -> ConflictOfInterest:
    coi = find_by_uuid(ConflictOfInterest, coi_uuid)
    if coi is None or not is_manager_of(actor, coi.call_id):
        raise NotFound("conflict of interest")
    return coi


def _decision(status: str) -> CoiStatus:
    try:
        decision = CoiStatus(status)
    except ValueError:
        decision = None
    if decision not in DECISIONS:
        raise FieldRejected("status", f'"{status}" is not a valid choice.')
    return decision


def _recuse(coi: ConflictOfInterest) -> dict[str, list[str]]:
    """Block the reviewer's pending and accepted items of the proposal; reject their reviews."""
    seen = list(_pair_items(coi, RECUSABLE))
    lock_rows(Review, [i.review_id for i in seen if i.review_id is not None])
    blocked, review_ids = [], []
    for item in _locked_fresh(seen, RECUSABLE):
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
    remaining = blocking_conflict_ids(coi.reviewer_id, [coi.proposal_id]).get(coi.proposal_id)
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
