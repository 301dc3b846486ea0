"""The scheduler's notice job: a call's expired batches always travel in one message, so its
managers get one digest per run however many batches expired (not one e-mail per batch)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from peewee import Database

from scheduler.jobs import expire_batches, notify_managers
from store.clock import utcnow
from store.enums import NotificationKind
from tests.builders import OPTIONS, notifications, run_scheduled
from tests.factories import make_call, make_call_manager, make_sent_batch


def test_one_digest_per_call_and_run_even_past_the_chunk_size(
    db: Database, redis_client: Any
) -> None:
    now = utcnow()
    options = replace(OPTIONS, chunk_size=2)
    big, small, other = make_call(name="Big"), make_call(name="Small"), make_call(name="Other")
    managers = {call.id: make_call_manager(call) for call in (big, small, other)}
    for _ in range(5):
        make_sent_batch(big, now - timedelta(hours=1))
    make_sent_batch(small, now - timedelta(hours=1))
    make_sent_batch(other, now - timedelta(hours=1))
    expire_batches(now, options)

    report = notify_managers(now, options)
    run_scheduled(redis_client)

    assert report.counts == {"batches_expired": 7, "messages": 2}
    digests = notifications(NotificationKind.EXPIRED_NOTICE)
    assert sorted(n.recipient for n in digests) == sorted(m.email for m in managers.values())
    by_recipient = {n.recipient: n for n in digests}
    assert by_recipient[managers[big.id].email].subject == '5 invitation(s) expired for "Big"'
    assert notify_managers(now, options).counts == {"batches_expired": 0, "messages": 0}
