"""The writes on one assignment item: the reviewer's answers (accept, decline, edit the decline
reason) and the manager's delete.

Only the batch's own reviewer answers (tasks/access.py: a manager gets Forbidden, anyone else
NotFound), only a pending item, and only until the batch's deadline. Each answer runs in one
transaction that locks the batch, then the item (the lock order of store/locks.py), and reads
their state only after the locks: of two concurrent answers to one item, or an answer racing
the expiry of its batch, exactly one takes effect and the other is refused. When no item of a
sent batch is left pending, the batch -> responded.
"""

from __future__ import annotations

from datetime import datetime

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ItemConflict,
    Review,
    User,
    write_transaction,
)
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus, ReviewState
from tasks.access import require_manager, require_reviewer
from tasks.batches.views import ItemView, item_views
from tasks.eligibility import reviewer_conflict_ids
from tasks.errors import (
    MSG_ACCEPT_EXPIRED,
    MSG_ACCEPT_NOT_PENDING,
    MSG_ACCEPT_WITH_COI,
    MSG_DECLINE_EXPIRED,
    MSG_DECLINE_NOT_PENDING,
    MSG_ITEM_DELETE_NOT_ALLOWED,
    MSG_ONLY_DECLINED_EDITABLE,
    RuleViolation,
)
from tasks.grants import BatchGrant
from tasks.items.reassign import auto_reassign, prepare_auto_reassign
from tasks.mail.notices import queue_decline_notices
from tasks.results import Accepted, Declined
from tasks.rows import find_item, lock_batch_of, lock_item, save_batch, save_item
from tasks.rules import DELETABLE_BATCHES, DELETABLE_ITEMS


def accept_item(actor: User | BatchGrant, item_uuid: str, now: datetime | None = None) -> Accepted:
    """pending -> accepted (the batch's reviewer only): creates the reviewer's Review of the
    proposal (in_review, assigned_at = now) and links it. Refuses, in this order: after the
    deadline (MSG_ACCEPT_EXPIRED), a non-pending item (MSG_ACCEPT_NOT_PENDING), an unresolved
    blocking conflict not overridden by a manager (MSG_ACCEPT_WITH_COI). Returns the item
    and its review (answered with MSG_ACCEPTED). Not idempotent: a second accept is refused."""
    current = now or utcnow()
    with write_transaction():
        batch, item = _lock_answer(actor, item_uuid, prepare_reassign=False)
        _require_open(batch, item, current, MSG_ACCEPT_EXPIRED, MSG_ACCEPT_NOT_PENDING)
        reviewer_id = batch.reviewer_pool_entry.reviewer_id
        if item.override_at is None and reviewer_conflict_ids(reviewer_id, [item.proposal_id]):
            raise RuleViolation(MSG_ACCEPT_WITH_COI)
        review = Review.create(
            proposal=item.proposal_id,
            reviewer=reviewer_id,
            state=ReviewState.IN_REVIEW,
            assigned_at=current,
        )
        _answer(item, ItemStatus.ACCEPTED, current, review=review.id)
        close_if_answered(batch, current)
    return Accepted(item, review)


def decline_item(
    actor: User | BatchGrant, item_uuid: str, reason: str = "", now: datetime | None = None
) -> Declined:
    """pending -> declined (the batch's reviewer only), with `reason`. Refuses after the
    deadline (MSG_DECLINE_EXPIRED), then a non-pending item (MSG_DECLINE_NOT_PENDING). When the
    call enables auto_reassign_on_decline, the same transaction reassigns the item to the best
    eligible reviewer in a new batch sent at once (tasks/items/reassign.py). Every manager of
    the call gets a decline notice (tasks/mail/notices.py). The outbox ids of the notices and
    of the reassignment's invitation come back in the result (answered with MSG_DECLINED). Not
    idempotent: a second decline is refused."""
    current = now or utcnow()
    with write_transaction():
        batch, item = _lock_answer(actor, item_uuid, prepare_reassign=True)
        _require_open(batch, item, current, MSG_DECLINE_EXPIRED, MSG_DECLINE_NOT_PENDING)
        _answer(item, ItemStatus.DECLINED, current, decline_reason=reason)
        close_if_answered(batch, current)
        entry = batch.reviewer_pool_entry
        ids = queue_decline_notices(item, batch.call, entry.reviewer, reason)
        ids += auto_reassign(item, now=current)
    return Declined(item, notification_ids=ids)


def delete_item(actor: User, item_uuid: str) -> None:
    """DELETE (204, a call manager): remove a pending or coi_blocked item of a draft or
    cancelled batch, with its conflict links; the batch stays, even empty. Anything else is
    refused with MSG_ITEM_DELETE_NOT_ALLOWED and nothing changes. A reviewer gets Forbidden,
    anyone else NotFound. Not idempotent: a second delete is NotFound."""
    with write_transaction():
        found = find_item(item_uuid)
        batch = lock_batch_of(found)
        item = lock_item(found.id)
        require_manager(actor, batch)
        # Accepted items are a review's history; declined, expired and reassigned ones keep a
        # decliner from getting the proposal back and the reassignment chain counted.
        if batch.status not in DELETABLE_BATCHES or item.status not in DELETABLE_ITEMS:
            raise RuleViolation(MSG_ITEM_DELETE_NOT_ALLOWED)
        ItemConflict.delete().where(ItemConflict.item == item.id).execute()
        AssignmentItem.delete().where(AssignmentItem.id == item.id).execute()


def edit_decline_reason(actor: User, item_uuid: str, decline_reason: str | None) -> ItemView:
    """PUT/PATCH (the batch's reviewer): correct the reason of their declined item, the one
    writable field (None, a PATCH without it, changes nothing). A manager gets Forbidden,
    anyone else NotFound; an item that is not declined is refused with
    MSG_ONLY_DECLINED_EDITABLE. Returns the item as it now is. Idempotent."""
    with write_transaction():
        found = find_item(item_uuid)
        batch = lock_batch_of(found)
        item = lock_item(found.id)
        require_reviewer(actor, batch)
        if decline_reason is not None:
            if item.status != ItemStatus.DECLINED:
                raise RuleViolation(MSG_ONLY_DECLINED_EDITABLE)
            AssignmentItem.update(decline_reason=decline_reason, modified=utcnow()).where(
                AssignmentItem.id == item.id
            ).execute()
        return item_views([item.id])[0]


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
    actor: User | BatchGrant, item_uuid: str, *, prepare_reassign: bool
) -> tuple[AssignmentBatch, AssignmentItem]:
    """The item's batch then the item, locked and fresh, once `actor` is known to be its
    reviewer. With `prepare_reassign` (a decline) on a call that reassigns automatically, the
    Call and the candidates' rows are locked first, as the lock order wants."""
    found = find_item(item_uuid)
    if prepare_reassign:
        call = Call.select().join(AssignmentBatch).where(AssignmentBatch.id == found.batch_id)
        if (call_row := call.first()) is not None and call_row.auto_reassign_on_decline:
            prepare_auto_reassign(call_row, found.proposal_id)
    batch = lock_batch_of(found)
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
