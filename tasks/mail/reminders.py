"""The scheduler's e-mails, written to the outbox: reminders, expiry notices, review deadlines.

Each writer runs inside the caller's `write_transaction`, re-checks under the batch locks what
the scheduler saw (it may have changed since), writes the outbox rows and the flag that records
the occasion in that one transaction, and returns the new rows' ids for `enqueue_deliveries`
after the commit. Running a writer twice, or concurrently, writes each e-mail once: the flags
(`reminder_sent`, `manager_notified`) and the dedupe keys (which include the batch's
`expires_at`, or the review's deadline, so an extended deadline is a new occasion) both hold.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from peewee import SQL, Expression, fn

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    Notification,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.db import is_sqlite
from store.enums import BatchStatus, ItemStatus, NotificationKind, ReviewState
from store.locks import lock_rows
from tasks.links import call_page_link, response_link, review_link
from tasks.mail.notices import call_managers
from tasks.mail.outbox import (
    InvalidRecipientError,
    notification_dedupe_key,
    queue_email,
)

logger = logging.getLogger(__name__)

KEY_LOOKUP_CHUNK = 500


def occasion(instant: datetime | None) -> str:
    """The part of a dedupe key that names one deadline (microseconds: never two alike)."""
    return instant.isoformat(timespec="microseconds") if instant else "none"


# --- which batches are due ---------------------------------------------------------------


def reminder_window_open(now: datetime) -> Expression:
    """Batches (joined with their Call) due for a reminder at `now`.

    Still sent, not reminded for this occasion, `expires_at - send_reminder_before_expiry_days
    <= now < expires_at`: inside the window and never at or after the deadline.
    """
    days = Call.send_reminder_before_expiry_days
    if is_sqlite():
        opened = fn.julianday(AssignmentBatch.expires_at) - days <= fn.julianday(str(now))
    else:
        opened = AssignmentBatch.expires_at - days * SQL("INTERVAL '1 day'") <= now
    return (
        (AssignmentBatch.status == BatchStatus.SENT)
        & (AssignmentBatch.reminder_sent == False)  # noqa: E712  (SQL, not Python)
        & AssignmentBatch.expires_at.is_null(False)
        & (AssignmentBatch.expires_at > now)
        & opened
    )


def expiry_notice_due() -> Expression:
    """Expired batches whose managers have not been told about this occasion."""
    return (AssignmentBatch.status == BatchStatus.EXPIRED) & (
        AssignmentBatch.manager_notified == False  # noqa: E712
    )


# --- reminders ---------------------------------------------------------------------------


def write_batch_reminders(batch_ids: Sequence[int], now: datetime) -> list[int]:
    """Write one reminder per batch still due at `now` and mark it `reminder_sent`.

    Batches no longer due (responded, cancelled, extended out of the window, past the
    deadline, reminded already) are left alone. A reviewer without a valid address gets no
    mail, but the batch is marked so that it is not tried every tick. Returns outbox ids.
    """
    lock_rows(AssignmentBatch, batch_ids)
    batches = list(_batches_with_reviewer(batch_ids).where(reminder_window_open(now)))
    titles = _titles_by_batch([b.id for b in batches], ItemStatus.PENDING)
    ids = [_queue_reminder(batch, titles.get(batch.id, [])) for batch in batches]
    if batches:
        AssignmentBatch.update(reminder_sent=True, modified=now).where(
            AssignmentBatch.id.in_([b.id for b in batches])
        ).execute()
    return [i for i in ids if i is not None]


def _queue_reminder(batch: AssignmentBatch, titles: list[str]) -> int | None:
    reviewer: Reviewer = batch.reviewer_pool_entry.reviewer
    context = {
        "call_name": batch.call.name,
        "proposals": titles,
        "deadline": batch.expires_at,
        "link": response_link(batch),
    }
    key = notification_dedupe_key(NotificationKind.REMINDER, batch.uuid, occasion(batch.expires_at))
    return _queue_or_skip(
        NotificationKind.REMINDER, reviewer.email, reviewer.name, "reminder", context, key
    )


# --- the expiry digest to the call's managers ----------------------------------------------


def write_expiry_notices(batch_ids: Sequence[int], now: datetime) -> list[int]:
    """Tell every manager of a call, in ONE digest per call and run ("N invitations
    expired"), about the batches of `batch_ids` still expired and not yet notified; mark them
    `manager_notified`. Batches no longer expired, or notified already, are left alone. The
    digest's dedupe key names the call, the manager and the exact set of (batch, deadline)
    occasions it reports, so a run repeated over the same batches writes nothing twice.
    Returns outbox ids."""
    lock_rows(AssignmentBatch, batch_ids)
    batches = list(_batches_with_reviewer(batch_ids).where(expiry_notice_due()))
    titles = _titles_by_batch([b.id for b in batches], ItemStatus.EXPIRED)
    managers = call_managers({b.call_id for b in batches})
    by_call: dict[int, list[AssignmentBatch]] = defaultdict(list)
    for batch in batches:
        by_call[batch.call_id].append(batch)
    ids: list[int | None] = []
    for call_id, call_batches in by_call.items():
        for manager in managers.get(call_id, []):
            ids.append(_queue_expiry_digest(call_batches, manager, titles))
    if batches:
        AssignmentBatch.update(manager_notified=True, modified=now).where(
            AssignmentBatch.id.in_([b.id for b in batches])
        ).execute()
    return [i for i in ids if i is not None]


def _queue_expiry_digest(
    batches: list[AssignmentBatch], manager: User, titles: dict[int, list[str]]
) -> int | None:
    call: Call = batches[0].call
    context = {
        "call_name": call.name,
        "batches": [
            {
                "reviewer_name": batch.reviewer_pool_entry.reviewer.name,
                "expired_at": batch.expires_at,
                "proposals": titles.get(batch.id, []),
            }
            for batch in batches
        ],
        "auto_reassign": bool(call.auto_reassign_on_decline),
        "link": call_page_link(call),
    }
    occasions = ",".join(sorted(f"{b.uuid}@{occasion(b.expires_at)}" for b in batches))
    digest = hashlib.sha256(occasions.encode()).hexdigest()[:24]
    key = notification_dedupe_key(NotificationKind.EXPIRED_NOTICE, call.uuid, manager.uuid, digest)
    name = manager.full_name or manager.username
    return _queue_or_skip(
        NotificationKind.EXPIRED_NOTICE, manager.email, name, "expired_notice", context, key
    )


# --- review deadlines ----------------------------------------------------------------------


def review_deadline_key(review_uuid: object, deadline: datetime | None) -> str:
    """`review_deadline:<review uuid>:<deadline>`: once per review and deadline."""
    return notification_dedupe_key(
        NotificationKind.REVIEW_DEADLINE, review_uuid, occasion(deadline)
    )


def review_deadline_near(now: datetime, within: timedelta) -> Expression:
    """Reviews held `in_review` whose deadline falls in (now, now + within]."""
    return (
        (Review.state == ReviewState.IN_REVIEW)
        & Review.reviewer.is_null(False)
        & Review.deadline.is_null(False)
        & (Review.deadline > now)
        & (Review.deadline <= now + within)
    )


def write_review_deadline_reminders(
    review_ids: Sequence[int], now: datetime, within: timedelta
) -> list[int]:
    """Remind the reviewer of each review still due within `within` of `now`, once per review
    and deadline (the dedupe key). Returns the ids of the rows written now."""
    reviews = (
        Review.select(Review, Proposal, Reviewer)
        .join(Proposal)
        .switch(Review)
        .join(Reviewer)
        .where(Review.id.in_(list(review_ids)), review_deadline_near(now, within))
        .order_by(Review.id)
    )
    ids = [_queue_review_deadline(review) for review in reviews]
    return [i for i in ids if i is not None]


def _queue_review_deadline(review: Review) -> int | None:
    context = {
        "proposal_title": review.proposal.name,
        "review_id": review.public_id,
        "priority": review.priority.value,
        "deadline": review.deadline,
        "link": review_link(review.public_id),
    }
    key = review_deadline_key(review.uuid, review.deadline)
    reviewer: Reviewer = review.reviewer
    return _queue_or_skip(
        NotificationKind.REVIEW_DEADLINE,
        reviewer.email,
        reviewer.name,
        "review_deadline",
        context,
        key,
    )


# --- shared ----------------------------------------------------------------------------


def _batches_with_reviewer(batch_ids: Sequence[int]) -> Any:
    return (
        AssignmentBatch.select(AssignmentBatch, Call, ReviewerPoolEntry, Reviewer)
        .join(Call)
        .switch(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .join(Reviewer)
        .where(AssignmentBatch.id.in_(list(batch_ids)))
        .order_by(AssignmentBatch.id)
    )


def _titles_by_batch(batch_ids: list[int], status: ItemStatus) -> dict[int, list[str]]:
    if not batch_ids:
        return {}
    rows = (
        AssignmentItem.select(AssignmentItem.batch, Proposal.name)
        .join(Proposal)
        .where(AssignmentItem.batch.in_(batch_ids), AssignmentItem.status == status)
        .order_by(AssignmentItem.id)
        .tuples()
    )
    found: dict[int, list[str]] = defaultdict(list)
    for batch_id, title in rows:
        found[batch_id].append(title)
    return dict(found)


def _queue_or_skip(
    kind: NotificationKind,
    recipient: str,
    name: str,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
) -> int | None:
    try:
        return queue_email(
            kind,
            recipient=recipient,
            recipient_name=name,
            template=template,
            context=context,
            dedupe_key=dedupe_key,
        )
    except InvalidRecipientError:
        logger.warning("%s %s: recipient has no valid e-mail address; skipped", kind, dedupe_key)
        return None


def batches_due_for_reminder(now: datetime) -> list[int]:
    """Ids of the sent batches inside their reminder window at `now` (one query)."""
    query = (
        AssignmentBatch.select(AssignmentBatch.id)
        .join(Call)
        .where(reminder_window_open(now))
        .order_by(AssignmentBatch.id)
        .tuples()
    )
    return [batch_id for (batch_id,) in query]


def expiry_notice_groups(chunk_size: int) -> list[list[int]]:
    """The expired batches not notified yet, in groups for the notice messages: a call's
    batches always in ONE group (so that its managers get one digest per run, however many
    batches expired), whole calls packed together up to `chunk_size` batches a group."""
    rows = (
        AssignmentBatch.select(AssignmentBatch.id, AssignmentBatch.call)
        .where(expiry_notice_due())
        .order_by(AssignmentBatch.call, AssignmentBatch.id)
        .tuples()
    )
    by_call: dict[int, list[int]] = defaultdict(list)
    for batch_id, call_id in rows:
        by_call[call_id].append(batch_id)
    groups: list[list[int]] = []
    for ids in by_call.values():
        if groups and len(groups[-1]) + len(ids) <= max(chunk_size, 1):
            groups[-1].extend(ids)
        else:
            groups.append(list(ids))
    return groups


def reviews_due_for_reminder(now: datetime, within: timedelta) -> list[int]:
    """Ids of reviews due in (now, now + within] whose reminder for this deadline is not in
    the outbox yet."""
    rows = (
        Review.select(Review.id, Review.uuid, Review.deadline)
        .where(review_deadline_near(now, within))
        .order_by(Review.id)
        .tuples()
    )
    by_key = {review_deadline_key(uuid, deadline): rid for rid, uuid, deadline in rows}
    done = _existing_dedupe_keys(list(by_key))
    return [rid for key, rid in by_key.items() if key not in done]


def _existing_dedupe_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        chunk = keys[start : start + KEY_LOOKUP_CHUNK]
        query = Notification.select(Notification.dedupe_key).where(
            Notification.dedupe_key.in_(chunk)
        )
        found.update(key for (key,) in query.tuples())
    return found
