"""Sending assignment batches: draft -> sent, with the invitation e-mail in the outbox.

`send_batch_locked` is the one place the transition happens; `send_batch` (one batch, the
`send/` action) and `send_all` (a call's drafts, `send-all-assignments/`) check permissions and
lock, and automatic reassignment calls it inside its own transaction on a batch it just made.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from peewee import fn

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    User,
    write_transaction,
)
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus
from store.locks import locked
from store.lookups import as_uuid
from tasks.access import require_call_manager, require_manager
from tasks.errors import (
    MSG_SEND_NOT_DRAFT,
    SKIP_NO_PENDING_ITEMS,
    SKIP_NOT_FOUND,
    RuleViolation,
)
from tasks.mail.invitations import queue_invitation
from tasks.results import Sent, SentAll, SkippedBatch
from tasks.rows import find_batch, save_batch


def send_batch_locked(batch: AssignmentBatch, *, now: datetime) -> list[int]:
    """Send `batch`, which the caller holds locked inside its transaction: draft -> sent,
    sent_at = now, expires_at = now + the call's assignment_expiration_days, reminder and
    manager-notice flags cleared, invitation queued. Returns the outbox ids to deliver after the
    commit. Raises RuleViolation(MSG_SEND_NOT_DRAFT) for any other status: not idempotent."""
    if batch.status != BatchStatus.DRAFT:
        raise RuleViolation(MSG_SEND_NOT_DRAFT)
    call: Call = batch.call
    save_batch(
        batch,
        status=BatchStatus.SENT,
        sent_at=now,
        expires_at=now + timedelta(days=call.assignment_expiration_days),
        reminder_sent=False,
        manager_notified=False,
    )
    notification_id = queue_invitation(batch)
    return [] if notification_id is None else [notification_id]


def send_batch(
    actor: User,
    batch_uuid: str,
    now: datetime | None = None,
    *,
    manager_notes: str | None = None,
) -> Sent:
    """The `send/` action (a call manager): draft -> sent with its invitation; `manager_notes`,
    when given, replaces the batch's note first (answered with MSG_SENT and the new expires_at).
    Not idempotent: a second send is refused with MSG_SEND_NOT_DRAFT and changes nothing."""
    current = now or utcnow()
    with write_transaction():
        batch = find_batch(batch_uuid, lock=True)
        require_manager(actor, batch)
        if batch.status != BatchStatus.DRAFT:
            raise RuleViolation(MSG_SEND_NOT_DRAFT)
        if manager_notes is not None:
            save_batch(batch, manager_notes=manager_notes)
        ids = send_batch_locked(batch, now=current)
    return Sent(batch, notification_ids=ids)


def send_all(
    actor: User,
    call_uuid: str,
    batch_uuids: Sequence[str] | None = None,
    now: datetime | None = None,
) -> SentAll:
    """The call's `send-all-assignments/` action: send every draft batch of the call that has a
    pending item (or only those of `batch_uuids`). Returns how many were sent and the batches
    skipped with their reason; a draft without a pending item is skipped, and so is every
    requested batch that is not a draft of this call. Idempotent: a second run sends nothing."""
    current = now or utcnow()
    with write_transaction():
        call = require_call_manager(actor, call_uuid)
        drafts, skipped = _lock_drafts(call, batch_uuids)
        pending = _pending_counts([b.id for b in drafts])
        ids: list[int] = []
        sent = 0
        for batch in drafts:
            if pending.get(batch.id, 0) == 0:
                skipped.append(_skip(batch.uuid, SKIP_NO_PENDING_ITEMS))
                continue
            ids += send_batch_locked(batch, now=current)
            sent += 1
    return SentAll(sent, skipped, notification_ids=ids)


def _lock_drafts(
    call: Call, batch_uuids: Sequence[str] | None
) -> tuple[list[AssignmentBatch], list[SkippedBatch]]:
    """The call's batches to consider, locked in id order, and the requested ones skipped."""
    query = AssignmentBatch.select().where(AssignmentBatch.call == call.id)
    if batch_uuids is None:
        query = query.where(AssignmentBatch.status == BatchStatus.DRAFT)
        return list(locked(query.order_by(AssignmentBatch.id))), []
    wanted = list(dict.fromkeys(batch_uuids))
    parsed = [u for u in (as_uuid(token) for token in wanted) if u is not None]
    found = list(locked(query.where(AssignmentBatch.uuid.in_(parsed)).order_by(AssignmentBatch.id)))
    by_uuid = {str(b.uuid): b for b in found}
    skipped = []
    for token in wanted:
        batch = by_uuid.get(str(as_uuid(token)))
        if batch is None:
            skipped.append(_skip(token, SKIP_NOT_FOUND))
        elif batch.status != BatchStatus.DRAFT:
            skipped.append(_skip(batch.uuid, MSG_SEND_NOT_DRAFT))
    return [b for b in found if b.status == BatchStatus.DRAFT], skipped


def _pending_counts(batch_ids: list[int]) -> dict[int, int]:
    if not batch_ids:
        return {}
    query = (
        AssignmentItem.select(AssignmentItem.batch, fn.COUNT(1))
        .where(AssignmentItem.batch.in_(batch_ids), AssignmentItem.status == ItemStatus.PENDING)
        .group_by(AssignmentItem.batch)
        .tuples()
    )
    return {int(batch_id): int(n) for batch_id, n in query}


def _skip(batch_uuid: object, reason: str) -> SkippedBatch:
    return SkippedBatch(str(batch_uuid), reason)
