"""The reviewer's answers to one assignment item: accept and decline.

Only the batch's own reviewer answers (tasks/access.py: a manager gets Forbidden, anyone else
NotFound), only a pending item, and only until the batch's deadline. Each answer runs in one
transaction that locks the batch, then the item (the lock order of store/locks.py), and reads
their state only after the locks: of two concurrent answers to one item, or an answer racing
the expiry of its batch, exactly one takes effect and the other is refused. When no item of a
sent batch is left pending, the batch -> responded.
"""

from __future__ import annotations

from datetime import datetime

from store import AssignmentBatch, AssignmentItem, Call, Review, User, write_transaction
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus, ReviewState
from store.locks import locked
from store.lookups import find_by_uuid
from tasks.access import require_reviewer
from tasks.batches.create import blocking_conflict_ids
from tasks.batches.send import save_batch
from tasks.errors import (
    MSG_ACCEPT_EXPIRED,
    MSG_ACCEPT_NOT_PENDING,
    MSG_ACCEPT_WITH_COI,
    MSG_ACCEPTED,
    MSG_DECLINE_EXPIRED,
    MSG_DECLINE_NOT_PENDING,
    MSG_DECLINED,
    NotFound,
    RuleViolation,
)
from tasks.items.reassign import auto_reassign, lock_item, prepare_auto_reassign, save_item
from tasks.results import ActionResult


def accept_item(actor: User, item_uuid: str, now: datetime | None = None) -> ActionResult:
    """pending -> accepted (the batch's reviewer only): creates the reviewer's Review of the
    proposal (in_review, assigned_at = now) and links it. Refuses, in this order: after the
    deadline (MSG_ACCEPT_EXPIRED), a non-pending item (MSG_ACCEPT_NOT_PENDING), an unresolved
    blocking conflict not overridden by a manager (MSG_ACCEPT_WITH_COI). Answers
    `{"detail": MSG_ACCEPTED, "review_uuid"}`. Not idempotent: a second accept is refused."""
    current = now or utcnow()
    with write_transaction():
        batch, item = _lock_answer(actor, item_uuid, prepare_reassign=False)
        _require_open(batch, item, current, MSG_ACCEPT_EXPIRED, MSG_ACCEPT_NOT_PENDING)
        reviewer_id = batch.reviewer_pool_entry.reviewer_id
        if item.override_at is None and blocking_conflict_ids(reviewer_id, [item.proposal_id]):
            raise RuleViolation(MSG_ACCEPT_WITH_COI)
        review = Review.create(
            proposal=item.proposal_id,
            reviewer=reviewer_id,
            state=ReviewState.IN_REVIEW,
            assigned_at=current,
        )
        _answer(item, ItemStatus.ACCEPTED, current, review=review.id)
        close_if_answered(batch, current)
    return ActionResult({"detail": MSG_ACCEPTED, "review_uuid": str(review.uuid)})


def decline_item(
    actor: User, item_uuid: str, reason: str = "", now: datetime | None = None
) -> ActionResult:
    """pending -> declined (the batch's reviewer only), with `reason`. Refuses after the
    deadline (MSG_DECLINE_EXPIRED), then a non-pending item (MSG_DECLINE_NOT_PENDING). When the
    call enables auto_reassign_on_decline, the same transaction reassigns the item to the best
    eligible reviewer in a new batch sent at once (tasks/items/reassign.py); the invitation's
    outbox ids come back in the result. Answers `{"detail": MSG_DECLINED, "review_uuid": None}`.
    Not idempotent: a second decline is refused."""
    current = now or utcnow()
    with write_transaction():
        batch, item = _lock_answer(actor, item_uuid, prepare_reassign=True)
        _require_open(batch, item, current, MSG_DECLINE_EXPIRED, MSG_DECLINE_NOT_PENDING)
        _answer(item, ItemStatus.DECLINED, current, decline_reason=reason)
        close_if_answered(batch, current)
        ids = auto_reassign(item, now=current)
    return ActionResult({"detail": MSG_DECLINED, "review_uuid": None}, ids)


def close_if_answered(batch: AssignmentBatch, now: datetime) -> None:
    """sent -> responded (responded_at = now) when none of its items is pending any more."""
    if batch.status != BatchStatus.SENT:
        return
    pending = AssignmentItem.select().where(
        AssignmentItem.batch == batch.id, AssignmentItem.status == ItemStatus.PENDING
    )
    if not pending.exists():
        save_batch(batch, status=BatchStatus.RESPONDED, responded_at=now)


def _lock_answer(
    actor: User, item_uuid: str, *, prepare_reassign: bool
) -> tuple[AssignmentBatch, AssignmentItem]:
    """The item's batch then the item, locked and fresh, once `actor` is known to be its
    reviewer. With `prepare_reassign` (a decline) on a call that reassigns automatically, the
    Call and the candidates' rows are locked first, as the lock order wants."""
    found = find_by_uuid(AssignmentItem, item_uuid)
    if found is None:
        raise NotFound("assignment item")
    if prepare_reassign:
        call = Call.select().join(AssignmentBatch).where(AssignmentBatch.id == found.batch_id)
        if (call_row := call.first()) is not None and call_row.auto_reassign_on_decline:
            prepare_auto_reassign(call_row, found.proposal_id)
    batch = locked(AssignmentBatch.select().where(AssignmentBatch.id == found.batch_id)).first()
    if batch is None:
        raise NotFound("assignment item")
    item = lock_item(found.id)
    require_reviewer(actor, batch)
    return batch, item


def _require_open(
    batch: AssignmentBatch,
    item: AssignmentItem,
    now: datetime,
    expired_message: str,
    not_pending_message: str,
) -> None:
    """Refuse an answer from the deadline on (the batch expired, or its expires_at is reached
    even if the scheduler has not run yet: `<=`, as tasks/batches/expiry.py), then an answer to an
    item that is not pending."""
    past_deadline = batch.expires_at is not None and batch.expires_at <= now
    if batch.status == BatchStatus.EXPIRED or past_deadline:
        raise RuleViolation(expired_message)
    if item.status != ItemStatus.PENDING:
        raise RuleViolation(not_pending_message)


def _answer(item: AssignmentItem, status: ItemStatus, now: datetime, **fields: object) -> None:
    save_item(item, status=status, responded_at=now, **fields)
