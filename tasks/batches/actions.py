"""The manager's actions on one assignment batch: cancel, extend the deadline, edit, delete.

Each runs in one transaction on the batch row locked first (then its items, the lock order),
checks that the actor manages the batch's call (tasks/access.py: a reviewer gets Forbidden,
anyone else NotFound), and changes nothing when it refuses. Sending lives in tasks/batches/send.py.
"""

from __future__ import annotations

from datetime import datetime

from store import AssignmentBatch, AssignmentItem, ItemConflict, User, write_transaction
from store.clock import to_naive_utc, utcnow
from store.enums import BatchStatus, ItemStatus
from store.locks import locked
from tasks.access import require_manager
from tasks.batches.views import BatchView, batch_view
from tasks.errors import (
    MSG_CANCEL_NOT_ALLOWED,
    MSG_DEADLINE_IN_PAST,
    MSG_DELETE_NOT_ALLOWED,
    MSG_EXTEND_NOT_ALLOWED,
    FieldRejected,
    RuleViolation,
)
from tasks.results import Cancelled, DeadlineExtended
from tasks.rows import find_batch, save_batch
from tasks.rules import CANCELLABLE_BATCHES, DELETABLE_BATCHES, EXTENDABLE_BATCHES


def _managed_batch(actor: User, batch_uuid: str) -> AssignmentBatch:
    """The batch, locked, if `actor` manages its call."""
    batch = find_batch(batch_uuid, lock=True)
    require_manager(actor, batch)
    return batch


def cancel_batch(actor: User, batch_uuid: str, now: datetime | None = None) -> Cancelled:
    """draft|sent -> cancelled (its items keep their status and stop counting as workload).
    Answered with MSG_CANCELLED. Not idempotent: cancelling again is refused with
    MSG_CANCEL_NOT_ALLOWED, as is every other status."""
    del now  # cancelling records no time; the parameter keeps every action's signature
    with write_transaction():
        batch = _managed_batch(actor, batch_uuid)
        if batch.status not in CANCELLABLE_BATCHES:
            raise RuleViolation(MSG_CANCEL_NOT_ALLOWED)
        save_batch(batch, status=BatchStatus.CANCELLED)
    return Cancelled(batch)


def extend_deadline(
    actor: User, batch_uuid: str, expires_at: datetime, now: datetime | None = None
) -> DeadlineExtended:
    """Move the deadline of a sent or expired batch to `expires_at` (aware or naive UTC).

    sent: only expires_at changes. expired -> sent: its expired items -> pending, reminder_sent
    and manager_notified cleared (a new occasion for reminder and expiry notice). Returns the
    batch with its new expires_at and status. Refuses other statuses (MSG_EXTEND_NOT_ALLOWED),
    then a deadline not after now (FieldRejected on expires_at). Idempotent: the same date
    twice, same state.
    """
    current = now or utcnow()
    deadline = to_naive_utc(expires_at)
    with write_transaction():
        batch = _managed_batch(actor, batch_uuid)
        if batch.status not in EXTENDABLE_BATCHES:
            raise RuleViolation(MSG_EXTEND_NOT_ALLOWED)
        if deadline <= current:
            raise FieldRejected("expires_at", MSG_DEADLINE_IN_PAST)
        if batch.status == BatchStatus.EXPIRED:
            _reactivate_items(batch)
            save_batch(
                batch,
                status=BatchStatus.SENT,
                expires_at=deadline,
                reminder_sent=False,
                manager_notified=False,
            )
        else:
            save_batch(batch, expires_at=deadline)
    return DeadlineExtended(batch)


def _reactivate_items(batch: AssignmentBatch) -> None:
    expired = AssignmentItem.select(AssignmentItem.id).where(
        AssignmentItem.batch == batch.id, AssignmentItem.status == ItemStatus.EXPIRED
    )
    ids = [item.id for item in locked(expired.order_by(AssignmentItem.id))]
    if ids:
        AssignmentItem.update(status=ItemStatus.PENDING, modified=utcnow()).where(
            AssignmentItem.id.in_(ids)
        ).execute()


def update_batch(
    actor: User, batch_uuid: str, manager_notes: str | None, now: datetime | None = None
) -> BatchView:
    """PUT/PATCH: set the manager's note (the one writable field; None, a PATCH without it,
    changes nothing), in any status; an invitation already sent is not re-sent. Returns the
    batch as it now is, with its items. Idempotent."""
    with write_transaction():
        batch = _managed_batch(actor, batch_uuid)
        if manager_notes is not None:
            save_batch(batch, manager_notes=manager_notes)
        return batch_view(batch, now=now)


def delete_batch(actor: User, batch_uuid: str) -> None:
    """DELETE (204): remove a draft or cancelled batch with its items and their conflict links,
    if none of its items was accepted (an accepted item is the history of a review). Any other
    batch is refused with MSG_DELETE_NOT_ALLOWED: a sent, responded or expired invitation stays
    on record (cancel it instead). Not idempotent: a second delete is NotFound."""
    with write_transaction():
        batch = _managed_batch(actor, batch_uuid)
        items = AssignmentItem.select(AssignmentItem.id, AssignmentItem.status).where(
            AssignmentItem.batch == batch.id
        )
        locked_items = list(locked(items.order_by(AssignmentItem.id)))
        if batch.status not in DELETABLE_BATCHES or any(
            item.status == ItemStatus.ACCEPTED for item in locked_items
        ):
            raise RuleViolation(MSG_DELETE_NOT_ALLOWED)
        _delete(batch, [item.id for item in locked_items])


def _delete(batch: AssignmentBatch, item_ids: list[int]) -> None:
    if item_ids:
        ItemConflict.delete().where(ItemConflict.item.in_(item_ids)).execute()
        AssignmentItem.delete().where(AssignmentItem.id.in_(item_ids)).execute()
    AssignmentBatch.delete().where(AssignmentBatch.id == batch.id).execute()
