"""The scheduler's jobs. Each takes the instant its clock reads (`now`, naive UTC), is idempotent,
and either runs one set-based use case or only finds records (tasks.*) and enqueues messages
for the actors of tasks/actors.py, which do the writing. None holds the calling thread
for long, and none sends e-mail itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from config import Settings
from store import write_transaction
from tasks.actors import (
    notify_expired_batches,
    reassign_expired_items,
    remind_reviewers_of_deadlines,
    send_batch_reminders,
)
from tasks.batches.expiry import expire_overdue_batches
from tasks.mail.outbox import enqueue_deliveries, redrivable_notification_ids
from tasks.mail.reminders import (
    batches_due_expiry_notice,
    batches_due_for_reminder,
    reviews_due_for_reminder,
)
from tasks.messages import ids_message
from tasks.producers import redrive_requests as redrive_orphaned_requests
from workers.message_outbox import record_message, redrive_recorded, send_recorded

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOptions:
    """The windows and sizes the jobs use; `from_settings` reads them from the environment."""

    chunk_size: int = 100
    review_deadline_within: timedelta = timedelta(days=3)
    redrive_after: timedelta = timedelta(seconds=20)
    request_redrive_after: timedelta = timedelta(seconds=60)
    sweep_limit: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> JobOptions:
        return cls(
            review_deadline_within=timedelta(days=settings.review_deadline_reminder_days),
            redrive_after=timedelta(seconds=settings.outbox_redrive_after_seconds),
            request_redrive_after=timedelta(seconds=settings.request_redrive_after_seconds),
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
    """Expire overdue batches and their pending items (one statement); the automatic
    reassignment of the expired items of calls that enable it is recorded in the message
    outbox in the same transaction, and sent after the commit (re-driven if that send is lost).
    """
    with write_transaction():
        result = expire_overdue_batches(now)
        recorded = [
            record_message(reassign_expired_items, ids_message(chunk, now))
            for chunk in chunks(result.reassign_item_ids, options)
        ]
    send_recorded(recorded)
    messages = len(recorded)
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
    ids = batches_due_for_reminder(now)
    messages = enqueue_chunks(send_batch_reminders, ids, now, options)
    return JobReport("send_reminders", {"batches_due": len(ids), "messages": messages})


def notify_managers(now: datetime, options: JobOptions) -> JobReport:
    """Enqueue the managers' notice of every expired batch not notified for this occasion."""
    ids = batches_due_expiry_notice()
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


def redrive_requests(now: datetime, options: JobOptions) -> JobReport:
    """Send again the requests left queued or running with no live message, and the recorded
    messages still unsent, `options.request_redrive_after` after they were written."""
    requests = redrive_orphaned_requests(
        now, options.request_redrive_after, limit=options.sweep_limit
    )
    messages = redrive_recorded(now, options.request_redrive_after, limit=options.sweep_limit)
    return JobReport("redrive_requests", {"requests": requests, "messages": messages})


JOBS: dict[str, Job] = {
    "expire_batches": expire_batches,
    "send_reminders": send_reminders,
    "notify_managers": notify_managers,
    "remind_review_deadlines": remind_review_deadlines,
    "sweep_outbox": sweep_outbox,
    "redrive_requests": redrive_requests,
}


def enqueue_chunks(
    actor: Any, ids: Sequence[int], now: datetime, options: JobOptions, **extra: Any
) -> int:
    """Send `ids` to `actor` in messages of at most `options.chunk_size`; returns the count.

    Called outside any transaction (the rows the ids name are committed already).
    """
    count = 0
    for chunk in chunks(ids, options):
        actor.send(ids_message(chunk, now, **extra))
        count += 1
    return count


def chunks(ids: Sequence[int], options: JobOptions) -> list[list[int]]:
    """`ids` in lists of at most `options.chunk_size`."""
    size = max(options.chunk_size, 1)
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]
