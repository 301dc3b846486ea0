"""The scheduler's jobs. Each takes the instant its clock reads (`now`, naive UTC), is idempotent,
and either runs one set-based statement or only finds records (one query) and enqueues messages
for the actors of tasks/scheduled_actors.py, which do the writing. None holds the calling thread
for long, and none sends e-mail itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from config import Settings
from scheduler.expiry import expire_overdue_batches
from store import AssignmentBatch, Call, Notification, Review
from tasks.outbox import enqueue_deliveries
from tasks.reminders import (
    expiry_notice_due,
    reminder_window_open,
    review_deadline_key,
    review_deadline_near,
)
from tasks.scheduled_actors import (
    ids_message,
    notify_expired_batches,
    reassign_expired_items,
    remind_reviewers_of_deadlines,
    send_batch_reminders,
)
from workers.delivery import redrivable_notification_ids

logger = logging.getLogger(__name__)

KEY_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class JobOptions:
    """The windows and sizes the jobs use; `from_settings` reads them from the environment."""

    chunk_size: int = 100
    review_deadline_within: timedelta = timedelta(days=3)
    redrive_after: timedelta = timedelta(minutes=2)
    sweep_limit: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> JobOptions:
        return cls(
            review_deadline_within=timedelta(days=settings.review_deadline_reminder_days),
            redrive_after=timedelta(seconds=settings.outbox_redrive_after_seconds),
        )


@dataclass(frozen=True)
class JobReport:
    """What one run of a job did, in counts."""

    job: str
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return f"{self.job}: " + ", ".join(f"{k}={v}" for k, v in self.counts.items())


Job = Callable[[datetime, JobOptions], JobReport]


def expire_batches(now: datetime, options: JobOptions) -> JobReport:
    """Expire overdue batches and their pending items (one statement); enqueue the automatic
    reassignment of the expired items of calls that enable it, after the commit."""
    result = expire_overdue_batches(now)
    messages = enqueue_chunks(reassign_expired_items, result.reassign_item_ids, now, options)
    return JobReport(
        "expire_batches",
        {
            "batches_expired": result.batches_expired,
            "items_expired": result.items_expired,
            "reassignment_messages": messages,
        },
    )


def send_reminders(now: datetime, options: JobOptions) -> JobReport:
    """Enqueue the reminder of every batch inside its reminder window (one query)."""
    query = (
        AssignmentBatch.select(AssignmentBatch.id)
        .join(Call)
        .where(reminder_window_open(now))
        .order_by(AssignmentBatch.id)
        .tuples()
    )
    ids = [batch_id for (batch_id,) in query]
    messages = enqueue_chunks(send_batch_reminders, ids, now, options)
    return JobReport("send_reminders", {"batches_due": len(ids), "messages": messages})


def notify_managers(now: datetime, options: JobOptions) -> JobReport:
    """Enqueue the managers' notice of every expired batch not notified for this occasion."""
    query = (
        AssignmentBatch.select(AssignmentBatch.id)
        .where(expiry_notice_due())
        .order_by(AssignmentBatch.id)
        .tuples()
    )
    ids = [batch_id for (batch_id,) in query]
    messages = enqueue_chunks(notify_expired_batches, ids, now, options)
    return JobReport("notify_managers", {"batches_expired": len(ids), "messages": messages})


def remind_review_deadlines(now: datetime, options: JobOptions) -> JobReport:
    """Enqueue a reminder for each `in_review` review due within the window and not reminded
    for this deadline yet."""
    ids = reviews_due_for_reminder(now, options.review_deadline_within)
    within_days = options.review_deadline_within / timedelta(days=1)
    messages = enqueue_chunks(
        remind_reviewers_of_deadlines, ids, now, options, within_days=within_days
    )
    return JobReport("remind_review_deadlines", {"reviews_due": len(ids), "messages": messages})


def sweep_outbox(now: datetime, options: JobOptions) -> JobReport:
    """Enqueue the delivery of outbox rows left pending or stuck in sending."""
    ids = redrivable_notification_ids(
        now, older_than=options.redrive_after, limit=options.sweep_limit
    )
    enqueue_deliveries(ids)
    return JobReport("sweep_outbox", {"redriven": len(ids)})


JOBS: dict[str, Job] = {
    "expire_batches": expire_batches,
    "send_reminders": send_reminders,
    "notify_managers": notify_managers,
    "remind_review_deadlines": remind_review_deadlines,
    "sweep_outbox": sweep_outbox,
}


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


def enqueue_chunks(
    actor: Any, ids: Sequence[int], now: datetime, options: JobOptions, **extra: Any
) -> int:
    """Send `ids` to `actor` in messages of at most `options.chunk_size`; returns the count.

    Called outside any transaction (the rows the ids name are committed already).
    """
    size = max(options.chunk_size, 1)
    count = 0
    for start in range(0, len(ids), size):
        actor.send(ids_message(list(ids[start : start + size]), now, **extra))
        count += 1
    return count
