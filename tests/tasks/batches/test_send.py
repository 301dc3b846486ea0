"""Sending batches on SQLite and PostgreSQL: one (`send/`), all of a call
(`send-all-assignments/`), inside a caller's transaction, concurrently, and delivery after commit.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from dramatiq.brokers.stub import StubBroker
from peewee import Database

from api.serializers.answers import sent_all_out, sent_out
from store import AssignmentBatch, Notification, database, write_transaction
from store.enums import BatchStatus, ItemStatus, NotificationKind
from tasks.batches.send import send_all, send_batch, send_batch_locked
from tasks.errors import (
    MSG_SEND_NOT_DRAFT,
    MSG_SENT,
    SKIP_NO_PENDING_ITEMS,
    SKIP_NOT_FOUND,
    Forbidden,
    NotFound,
    RuleViolation,
)
from tasks.mail.outbox import EnqueueInsideTransactionError
from tasks.results import SkippedBatch, deliver
from tests.builders import (
    NOW,
    BatchWorld,
    batches_snapshot,
    build_batch_world,
)
from tests.factories import make_assignment_batch, make_assignment_item, make_call
from workers.redis_keys import MAIL_QUEUE


def test_sending_a_draft_makes_it_sent_until_now_plus_the_calls_expiration_days(
    world: BatchWorld,
) -> None:
    result = send_batch(world.manager, str(world.batch.uuid), NOW)
    batch = world.fresh()
    assert sent_out(result).model_dump(mode="json") == {
        "detail": MSG_SENT,
        "expires_at": "2026-03-08T12:00:00Z",
    }
    assert batch.status == BatchStatus.SENT
    assert (batch.sent_at, batch.expires_at) == (NOW, NOW + timedelta(days=7))
    assert len(result.notification_ids) == 1
    notification = Notification.get_by_id(result.notification_ids[0])
    assert notification.kind == NotificationKind.INVITATION
    assert notification.recipient == "rita@example.org"


def test_send_uses_the_calls_own_expiration_days_and_may_replace_the_note(db: Database) -> None:
    world = build_batch_world(assignment_expiration_days=3)
    result = send_batch(world.staff, str(world.batch.uuid), NOW, manager_notes="New note")
    assert sent_out(result).model_dump(mode="json")["expires_at"] == "2026-03-04T12:00:00Z"
    assert world.fresh().manager_notes == "New note"
    assert "New note" in Notification.get_by_id(result.notification_ids[0]).text_body


@pytest.mark.parametrize(
    "status",
    [BatchStatus.SENT, BatchStatus.RESPONDED, BatchStatus.EXPIRED, BatchStatus.CANCELLED],
)
def test_only_a_draft_can_be_sent_and_a_refusal_changes_nothing(
    world: BatchWorld, status: BatchStatus
) -> None:
    AssignmentBatch.update(status=status).execute()
    before = batches_snapshot()
    with pytest.raises(RuleViolation) as caught:
        send_batch(world.manager, str(world.batch.uuid), NOW)
    assert caught.value.body() == {"error": MSG_SEND_NOT_DRAFT}
    assert batches_snapshot() == before


def test_sending_twice_refuses_the_second_time_and_writes_one_invitation(world: BatchWorld) -> None:
    send_batch(world.manager, str(world.batch.uuid), NOW)
    with pytest.raises(RuleViolation, match=MSG_SEND_NOT_DRAFT):
        send_batch(world.manager, str(world.batch.uuid), NOW + timedelta(hours=1))
    assert Notification.select().count() == 1


def test_send_batch_locked_sends_inside_the_callers_transaction(world: BatchWorld) -> None:
    with write_transaction():
        batch = AssignmentBatch.get_by_id(world.batch.id)
        ids = send_batch_locked(batch, now=NOW)
    assert world.fresh().status == BatchStatus.SENT
    assert [n.id for n in Notification.select()] == ids


def test_deliver_enqueues_one_message_per_notification_after_the_commit(
    world: BatchWorld,
    stub_broker: StubBroker,
) -> None:
    result = send_batch(world.manager, str(world.batch.uuid), NOW)
    deliver(result)
    assert stub_broker.queues[MAIL_QUEUE].qsize() == 1


# --- send all -------------------------------------------------------------------------------


def test_send_all_sends_every_draft_with_a_pending_item_and_says_why_it_skipped_the_rest(
    world: BatchWorld,
) -> None:
    second = make_assignment_batch(world.call)
    make_assignment_item(second)
    only_blocked = make_assignment_batch(world.call)
    make_assignment_item(only_blocked, status=ItemStatus.COI_BLOCKED, has_coi=True)
    make_assignment_batch(world.call, status=BatchStatus.SENT)
    other_call = make_assignment_batch(make_call())
    make_assignment_item(other_call)
    result = send_all(world.manager, str(world.call.uuid), now=NOW)
    assert result.skipped == [SkippedBatch(str(only_blocked.uuid), SKIP_NO_PENDING_ITEMS)]
    assert sent_all_out(result).model_dump(mode="json") == {"batches_sent": 2, "skipped": 1}
    assert len(result.notification_ids) == 2
    statuses = {b.id: b.status for b in AssignmentBatch.select()}
    assert statuses[world.batch.id] == statuses[second.id] == BatchStatus.SENT
    assert statuses[only_blocked.id] == statuses[other_call.id] == BatchStatus.DRAFT


def test_send_all_twice_sends_nothing_the_second_time(world: BatchWorld) -> None:
    send_all(world.manager, str(world.call.uuid), now=NOW)
    again = send_all(world.manager, str(world.call.uuid), now=NOW)
    assert sent_all_out(again).model_dump(mode="json") == {"batches_sent": 0, "skipped": 0}
    assert Notification.select().count() == 1


def test_send_all_with_batch_uuids_sends_only_those_and_skips_the_unsendable(
    world: BatchWorld,
) -> None:
    untouched = make_assignment_batch(world.call)
    make_assignment_item(untouched)
    sent = make_assignment_batch(world.call, status=BatchStatus.SENT)
    foreign = make_assignment_batch(make_call())
    asked = [str(world.batch.uuid), str(sent.uuid), str(foreign.uuid), "nonsense"]
    result = send_all(world.manager, world.call.public_id, asked, NOW)
    assert result.skipped == [
        SkippedBatch(str(sent.uuid), MSG_SEND_NOT_DRAFT),
        SkippedBatch(str(foreign.uuid), SKIP_NOT_FOUND),
        SkippedBatch("nonsense", SKIP_NOT_FOUND),
    ]
    assert sent_all_out(result).model_dump(mode="json") == {"batches_sent": 1, "skipped": 3}
    assert AssignmentBatch.get_by_id(untouched.id).status == BatchStatus.DRAFT


def test_send_all_is_forbidden_to_a_reviewer_of_the_call_and_hidden_from_others(
    world: BatchWorld,
) -> None:
    before = batches_snapshot()
    with pytest.raises(Forbidden):
        send_all(world.reviewer_user, str(world.call.uuid), now=NOW)
    for outsider in (world.other_manager, world.stranger):
        with pytest.raises(NotFound):
            send_all(outsider, str(world.call.uuid), now=NOW)
    with pytest.raises(NotFound):
        send_all(world.manager, "no-such-call", now=NOW)
    assert batches_snapshot() == before


# --- concurrency ----------------------------------------------------------------------------


def test_two_concurrent_sends_of_one_batch_send_it_once(world: BatchWorld) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send_in_thread() -> None:
        barrier.wait()
        with database.connection_context():
            try:
                send_batch(world.manager, str(world.batch.uuid), NOW)
                outcomes.append("sent")
            except RuleViolation as exc:
                outcomes.append(exc.message)

    threads = [threading.Thread(target=send_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [MSG_SEND_NOT_DRAFT, "sent"]
    assert Notification.select().count() == 1


def test_deliver_inside_an_open_transaction_is_refused(
    world: BatchWorld,
    stub_broker: StubBroker,
) -> None:
    result = send_batch(world.manager, str(world.batch.uuid), NOW)
    with write_transaction(), pytest.raises(EnqueueInsideTransactionError):
        deliver(result)
    assert stub_broker.queues[MAIL_QUEUE].qsize() == 0
