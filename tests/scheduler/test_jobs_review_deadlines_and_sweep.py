"""The review-deadline reminders and the outbox sweep with an injected clock, on SQLite and
PostgreSQL, with real Redis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from peewee import Database

from scheduler.jobs import remind_review_deadlines, sweep_outbox
from store import Notification, write_transaction
from store.clock import utcnow
from store.enums import NotificationKind, NotificationStatus, ReviewState
from tasks.mail.outbox import queue_email
from tests.builders import DAY, OPTIONS, notifications, queued, run_scheduled
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from workers.redis_keys import MAIL_QUEUE

# --- remind_review_deadlines -------------------------------------------------------------


def test_a_review_due_within_three_days_is_reminded_once_per_deadline(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    reviewer = make_reviewer()
    proposal = make_proposal(make_call())
    due = make_review(proposal, reviewer=reviewer, state=ReviewState.IN_REVIEW, deadline=now + DAY)
    make_review(proposal, reviewer=reviewer, state=ReviewState.IN_REVIEW, deadline=now + 5 * DAY)
    make_review(proposal, reviewer=reviewer, state=ReviewState.IN_REVIEW, deadline=now - DAY)
    make_review(proposal, reviewer=reviewer, state=ReviewState.SUBMITTED, deadline=now + DAY)

    first = remind_review_deadlines(now, OPTIONS)
    run_scheduled(redis_client)
    second = remind_review_deadlines(now + timedelta(minutes=15), OPTIONS)

    assert first.counts["reviews_due"] == 1
    assert second.counts["reviews_due"] == 0
    [reminder] = notifications(NotificationKind.REVIEW_DEADLINE)
    assert reminder.recipient == reviewer.email
    assert due.public_id in reminder.text_body

    due.deadline = now + 2 * DAY
    due.save()
    assert remind_review_deadlines(now, OPTIONS).counts["reviews_due"] == 1


# --- sweep_outbox ------------------------------------------------------------------------


def test_the_sweep_enqueues_rows_left_pending_and_leaves_fresh_ones(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    with write_transaction():
        old = queue_email(
            NotificationKind.REMINDER,
            recipient="a@example.org",
            recipient_name="A",
            template="review_deadline",
            context={
                "proposal_title": "P",
                "review_id": "r",
                "priority": "normal",
                "deadline": None,
                "link": "x",
            },
            dedupe_key="test:old",
        )
    Notification.update(created=now - timedelta(hours=1)).where(Notification.id == old).execute()
    with write_transaction():
        Notification.create(
            kind=NotificationKind.REMINDER,
            recipient="b@example.org",
            subject="s",
            text_body="t",
            html_body="h",
            dedupe_key="test:fresh",
        )

    report = sweep_outbox(now, OPTIONS)

    assert report.counts == {"redriven": 1}
    [message] = queued(redis_client, MAIL_QUEUE)
    assert message["args"] == [old]
    assert Notification.get_by_id(old).status == NotificationStatus.PENDING
