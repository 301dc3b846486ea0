"""Each scheduler job with an injected clock, on SQLite and PostgreSQL, with real Redis.

A job enqueues messages on the `scheduled` queue; `run_scheduled` runs them in process, as a
worker would, so each test sees the effect of job + actor without sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from peewee import Database

from scheduler.jobs import (
    expire_batches,
    notify_managers,
    send_reminders,
)
from store import AssignmentBatch, AssignmentItem, Notification
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus, NotificationKind
from tasks.actors import send_batch_reminders
from tasks.messages import InvalidScheduledMessageError
from tests.builders import DAY, OPTIONS, extend, fresh_batch, notifications, queued, run_scheduled
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_pool_entry,
    make_reviewer,
    make_sent_batch,
)
from workers.redis_keys import SCHEDULED_QUEUE

# --- expire_batches ----------------------------------------------------------------------


def test_an_overdue_sent_batch_and_its_pending_items_expire_and_nothing_else_changes(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    call = make_call()
    overdue = make_sent_batch(call, now - timedelta(minutes=1), items=2)
    accepted = make_assignment_item(overdue, status=ItemStatus.ACCEPTED)
    future = make_sent_batch(call, now + DAY)
    draft = make_assignment_batch(call, expires_at=now - DAY)

    report = expire_batches(now, OPTIONS)

    assert report.counts["batches_expired"] == 1
    assert report.counts["items_expired"] == 2
    assert fresh_batch(overdue).status == BatchStatus.EXPIRED
    statuses = [i.status for i in AssignmentItem.select().where(AssignmentItem.batch == overdue.id)]
    assert sorted(statuses) == [ItemStatus.ACCEPTED, ItemStatus.EXPIRED, ItemStatus.EXPIRED]
    assert AssignmentItem.get_by_id(accepted.id).status == ItemStatus.ACCEPTED
    assert fresh_batch(future).status == BatchStatus.SENT
    assert fresh_batch(draft).status == BatchStatus.DRAFT


def test_expiring_twice_changes_nothing_the_second_time(db: Database, redis_client: Any) -> None:
    now = utcnow()
    make_sent_batch(make_call(), now - DAY, items=3)
    expire_batches(now, OPTIONS)

    again = expire_batches(now + timedelta(minutes=1), OPTIONS)

    assert again.counts == {"batches_expired": 0, "items_expired": 0, "reassignment_messages": 0}


def test_a_batch_expires_exactly_at_its_deadline_not_a_moment_before(
    db: Database, redis_client: Any
) -> None:
    deadline = utcnow() + timedelta(hours=1)
    batch = make_sent_batch(make_call(), deadline)

    expire_batches(deadline - timedelta(microseconds=1), OPTIONS)
    assert fresh_batch(batch).status == BatchStatus.SENT
    expire_batches(deadline, OPTIONS)
    assert fresh_batch(batch).status == BatchStatus.EXPIRED


def test_expired_items_go_to_reassignment_only_where_the_call_enables_it(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    auto = make_sent_batch(make_call(auto_reassign_on_decline=True), now - DAY, items=2)
    make_sent_batch(make_call(auto_reassign_on_decline=False), now - DAY, items=2)

    report = expire_batches(now, OPTIONS)

    messages = queued(redis_client, SCHEDULED_QUEUE)
    assert report.counts["reassignment_messages"] == 1
    assert [m["actor_name"] for m in messages] == ["reassign_expired_items"]
    auto_items = AssignmentItem.select(AssignmentItem.id).where(AssignmentItem.batch == auto.id)
    assert sorted(messages[0]["args"][0]["ids"]) == sorted(i.id for i in auto_items)


# --- send_reminders ----------------------------------------------------------------------


def test_a_reminder_goes_out_once_inside_the_window_and_never_outside_it(
    db: Database, redis_client: Any
) -> None:
    deadline = utcnow() + 10 * DAY
    call = make_call(send_reminder_before_expiry_days=2)
    batch = make_sent_batch(call, deadline)

    send_reminders(deadline - 3 * DAY, OPTIONS)
    assert run_scheduled(redis_client) == []
    send_reminders(deadline - DAY, OPTIONS)
    send_reminders(deadline - DAY + timedelta(hours=1), OPTIONS)
    run_scheduled(redis_client)

    [reminder] = notifications(NotificationKind.REMINDER)
    assert reminder.recipient == batch.reviewer_pool_entry.reviewer.email
    assert fresh_batch(batch).reminder_sent is True
    assert "respond" in reminder.text_body.lower()


def test_no_reminder_at_or_after_the_deadline(db: Database, redis_client: Any) -> None:
    deadline = utcnow() + 10 * DAY
    make_sent_batch(make_call(), deadline)

    report = send_reminders(deadline, OPTIONS)
    send_reminders(deadline + DAY, OPTIONS)
    run_scheduled(redis_client)

    assert report.counts["batches_due"] == 0
    assert notifications(NotificationKind.REMINDER) == []


def test_a_batch_answered_after_the_job_found_it_gets_no_reminder(
    db: Database, redis_client: Any
) -> None:
    deadline = utcnow() + 10 * DAY
    batch = make_sent_batch(make_call(), deadline)
    send_reminders(deadline - DAY, OPTIONS)
    AssignmentBatch.update(status=BatchStatus.RESPONDED).where(
        AssignmentBatch.id == batch.id
    ).execute()

    assert run_scheduled(redis_client) == ["send_batch_reminders"]
    assert notifications(NotificationKind.REMINDER) == []


def test_the_reminder_actor_run_twice_writes_one_reminder(db: Database, redis_client: Any) -> None:
    deadline = utcnow() + 10 * DAY
    batch = make_sent_batch(make_call(), deadline)
    message = {"ids": [batch.id], "now": (deadline - DAY).isoformat()}

    send_batch_reminders.fn(message)
    send_batch_reminders.fn(message)

    assert len(notifications(NotificationKind.REMINDER)) == 1


def test_user_text_in_a_reminder_is_escaped_in_html(db: Database, redis_client: Any) -> None:
    deadline = utcnow() + 10 * DAY
    call = make_call(name="<script>alert(1)</script>")
    make_sent_batch(call, deadline)

    send_reminders(deadline - DAY, OPTIONS)
    run_scheduled(redis_client)

    [reminder] = notifications(NotificationKind.REMINDER)
    assert "<script>" not in reminder.html_body
    assert "&lt;script&gt;" in reminder.html_body


def test_a_malformed_scheduled_message_fails_at_once_naming_the_field(db: Database) -> None:
    with pytest.raises(InvalidScheduledMessageError, match="ids"):
        send_batch_reminders.fn({"ids": "all", "now": "2026-01-01T00:00:00"})
    assert InvalidScheduledMessageError in send_batch_reminders.options["throws"]


# --- notify_managers ---------------------------------------------------------------------


def test_every_manager_is_told_once_about_an_expired_batch(db: Database, redis_client: Any) -> None:
    now = utcnow()
    call = make_call()
    managers = [make_call_manager(call), make_call_manager(call)]
    batch = make_sent_batch(call, now - DAY, items=2)
    expire_batches(now, OPTIONS)

    notify_managers(now, OPTIONS)
    notify_managers(now, OPTIONS)
    run_scheduled(redis_client)
    notify_managers(now + timedelta(minutes=1), OPTIONS)
    run_scheduled(redis_client)

    notices = notifications(NotificationKind.EXPIRED_NOTICE)
    assert sorted(n.recipient for n in notices) == sorted(m.email for m in managers)
    assert fresh_batch(batch).manager_notified is True


def test_a_call_without_managers_marks_the_batch_notified_without_mail(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    batch = make_sent_batch(make_call(), now - DAY)
    expire_batches(now, OPTIONS)

    notify_managers(now, OPTIONS)
    run_scheduled(redis_client)

    assert notifications(NotificationKind.EXPIRED_NOTICE) == []
    assert fresh_batch(batch).manager_notified is True
    assert notify_managers(now, OPTIONS).counts["batches_expired"] == 0


def test_an_extended_batch_is_a_new_occasion_for_reminder_expiry_and_notice(
    db: Database, redis_client: Any
) -> None:
    start = utcnow() + DAY
    call = make_call(send_reminder_before_expiry_days=2)
    make_call_manager(call)
    batch = make_sent_batch(call, start + 5 * DAY, items=2)

    def one_round(deadline: datetime) -> None:
        send_reminders(deadline - DAY, OPTIONS)
        run_scheduled(redis_client)
        expire_batches(deadline, OPTIONS)
        notify_managers(deadline, OPTIONS)
        run_scheduled(redis_client)

    one_round(start + 5 * DAY)
    assert fresh_batch(batch).status == BatchStatus.EXPIRED
    extend(batch, start + 20 * DAY)
    one_round(start + 20 * DAY)

    assert fresh_batch(batch).status == BatchStatus.EXPIRED
    assert len(notifications(NotificationKind.REMINDER)) == 2
    assert len(notifications(NotificationKind.EXPIRED_NOTICE)) == 2
    keys = {n.dedupe_key for n in Notification.select()}
    assert len(keys) == 4


def test_an_expired_item_of_an_auto_reassign_call_goes_to_another_reviewer(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    call = make_call(auto_reassign_on_decline=True)
    first, second = make_reviewer(), make_reviewer()
    make_pool_entry(call, second)
    batch = make_sent_batch(call, now - DAY, reviewer=first)
    [item] = list(AssignmentItem.select().where(AssignmentItem.batch == batch.id))

    expire_batches(now, OPTIONS)
    assert run_scheduled(redis_client) == ["reassign_expired_items"]
    run_scheduled(redis_client)  # nothing left: the actor enqueued only mail

    assert AssignmentItem.get_by_id(item.id).status == ItemStatus.REASSIGNED
    [successor] = list(AssignmentItem.select().where(AssignmentItem.reassigned_from == item.id))
    new_batch = successor.batch
    assert new_batch.reviewer_pool_entry.reviewer_id == second.id
    assert new_batch.status == BatchStatus.SENT
    assert len(notifications(NotificationKind.INVITATION)) == 1
