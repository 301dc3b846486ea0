"""Notices managers can act on: one decline notice per declined item and manager, and one
expiry digest per call and run (not one e-mail per batch), each linking to the call's page."""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import Database

from store import Notification, write_transaction
from store.clock import utcnow
from store.enums import NotificationKind
from tasks.batches.expiry import expire_overdue_batches
from tasks.items.answers import decline_item
from tasks.links import call_page_link
from tasks.mail.reminders import expiry_notice_groups, write_expiry_notices
from tests.builders import NOW, add_item, extend, invite, notifications
from tests.factories import make_call, make_call_manager, make_sent_batch


def _digest_run(now: datetime) -> list[int]:
    ids = [batch_id for group in expiry_notice_groups(100) for batch_id in group]
    with write_transaction():
        return write_expiry_notices(ids, now)


def test_a_decline_tells_every_manager_once_with_reviewer_proposal_reason_and_link(
    db: Database, public_url: str
) -> None:
    inv = invite()
    second = make_call_manager(inv.call)
    item = add_item(inv)

    reason = "Conflict <b>of</b> dates"
    result = decline_item(inv.reviewer_user, str(item.uuid), reason=reason, now=NOW)

    notices = notifications(NotificationKind.DECLINE_NOTICE)
    assert sorted(n.recipient for n in notices) == sorted([inv.manager.email, second.email])
    assert sorted(n.id for n in notices) == sorted(result.notification_ids)
    for notice in notices:
        assert inv.reviewer.name in notice.subject
        assert item.proposal.name in notice.subject
        assert "Reason: Conflict <b>of</b> dates" in notice.text_body
        assert "Conflict &lt;b&gt;of&lt;/b&gt; dates" in notice.html_body
        assert f"Call page: {call_page_link(inv.call)}" in notice.text_body
        assert call_page_link(inv.call).startswith(f"{public_url}/calls/")


def test_expired_batches_of_one_call_make_one_digest_per_manager_and_run(db: Database) -> None:
    now = utcnow()
    call, other_call = make_call(name="Physics"), make_call(name="Maths")
    managers = [make_call_manager(call), make_call_manager(call)]
    other_manager = make_call_manager(other_call)
    for _ in range(3):
        make_sent_batch(call, now - timedelta(hours=1), items=2)
    make_sent_batch(other_call, now - timedelta(hours=1))
    expire_overdue_batches(now)

    first = _digest_run(now)
    again = _digest_run(now + timedelta(minutes=1))

    digests = notifications(NotificationKind.EXPIRED_NOTICE)
    assert len(first) == 3 and again == []
    recipients = sorted(n.recipient for n in digests)
    assert recipients == sorted([m.email for m in managers] + [other_manager.email])
    physics = next(n for n in digests if n.recipient == managers[0].email)
    assert physics.subject == '3 invitation(s) expired for "Physics"'
    assert physics.text_body.count("proposal(s) unanswered") == 3
    assert f"Call page: {call_page_link(call)}" in physics.text_body


def test_a_batch_extended_and_expired_again_is_in_a_new_digest(db: Database) -> None:
    now = utcnow()
    call = make_call()
    make_call_manager(call)
    batch = make_sent_batch(call, now - timedelta(hours=1))
    expire_overdue_batches(now)
    _digest_run(now)
    extend(batch, now + timedelta(hours=1))
    expire_overdue_batches(now + timedelta(hours=2))

    _digest_run(now + timedelta(hours=2))

    assert len(notifications(NotificationKind.EXPIRED_NOTICE)) == 2
    assert Notification.select().count() == 2
