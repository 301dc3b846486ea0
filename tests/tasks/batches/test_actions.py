"""The manager's batch actions on SQLite and PostgreSQL: cancel, extend, update, delete, every
refusal with its exact message, and the permissions of every manager action (send included).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from api.serializers.answers import cancelled_out, extended_out
from api.serializers.batches import batch_detail_out
from api.serializers.links import Links
from store import (
    AssignmentBatch,
    AssignmentItem,
    ConflictOfInterest,
    ItemConflict,
    User,
)
from store.enums import BatchStatus, ItemStatus
from tasks.batches.actions import cancel_batch, delete_batch, extend_deadline, update_batch
from tasks.batches.send import send_batch
from tasks.errors import (
    MSG_CANCEL_NOT_ALLOWED,
    MSG_CANCELLED,
    MSG_DEADLINE_IN_PAST,
    MSG_DELETE_NOT_ALLOWED,
    MSG_EXTEND_NOT_ALLOWED,
    FieldRejected,
    Forbidden,
    NotFound,
    RuleViolation,
)
from tests.builders import NOW, BatchWorld, batches_snapshot, sent_batch
from tests.factories import (
    make_conflict,
)


@pytest.mark.parametrize("status", [BatchStatus.DRAFT, BatchStatus.SENT])
def test_a_draft_or_sent_batch_can_be_cancelled(world: BatchWorld, status: BatchStatus) -> None:
    AssignmentBatch.update(status=status).execute()
    result = cancel_batch(world.manager, str(world.batch.uuid), NOW)
    assert cancelled_out(result).model_dump(mode="json") == {"message": MSG_CANCELLED}
    assert world.fresh().status == BatchStatus.CANCELLED
    assert world.item_statuses() == [ItemStatus.PENDING, ItemStatus.PENDING, ItemStatus.COI_BLOCKED]


@pytest.mark.parametrize(
    "status", [BatchStatus.RESPONDED, BatchStatus.EXPIRED, BatchStatus.CANCELLED]
)
def test_other_statuses_cannot_be_cancelled(world: BatchWorld, status: BatchStatus) -> None:
    AssignmentBatch.update(status=status).execute()
    before = batches_snapshot()
    with pytest.raises(RuleViolation) as caught:
        cancel_batch(world.manager, str(world.batch.uuid), NOW)
    assert caught.value.body() == {"error": MSG_CANCEL_NOT_ALLOWED}
    assert batches_snapshot() == before


def test_extending_a_sent_batch_changes_only_its_deadline(world: BatchWorld) -> None:
    sent_batch(world)
    new = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)
    result = extend_deadline(world.manager, str(world.batch.uuid), new, NOW)
    batch = world.fresh()
    assert extended_out(result).model_dump(mode="json") == {
        "expires_at": "2026-03-20T09:30:00Z",
        "status": "sent",
    }
    assert batch.expires_at == datetime(2026, 3, 20, 9, 30)
    assert (batch.status, batch.reminder_sent, batch.sent_at) == (
        BatchStatus.SENT,
        True,
        NOW - timedelta(days=10),
    )


def test_extending_an_expired_batch_reactivates_it_its_expired_items_and_its_reminders(
    world: BatchWorld,
) -> None:
    sent_batch(world, status=BatchStatus.EXPIRED)
    AssignmentItem.update(status=ItemStatus.EXPIRED).where(
        AssignmentItem.id == world.items[0].id
    ).execute()
    AssignmentItem.update(status=ItemStatus.DECLINED).where(
        AssignmentItem.id == world.items[1].id
    ).execute()
    result = extend_deadline(world.manager, str(world.batch.uuid), NOW + timedelta(days=5), NOW)
    batch = world.fresh()
    assert extended_out(result).model_dump(mode="json") == {
        "expires_at": "2026-03-06T12:00:00Z",
        "status": "sent",
    }
    assert (batch.status, batch.reminder_sent, batch.manager_notified) == (
        BatchStatus.SENT,
        False,
        False,
    )
    assert world.item_statuses() == [
        ItemStatus.PENDING,
        ItemStatus.DECLINED,
        ItemStatus.COI_BLOCKED,
    ]


@pytest.mark.parametrize("status", [BatchStatus.SENT, BatchStatus.EXPIRED])
@pytest.mark.parametrize("offset", [timedelta(0), timedelta(days=-1)])
def test_a_deadline_that_is_not_in_the_future_is_rejected_on_its_field(
    world: BatchWorld, status: BatchStatus, offset: timedelta
) -> None:
    sent_batch(world, status=status)
    before = batches_snapshot()
    with pytest.raises(FieldRejected) as caught:
        extend_deadline(world.manager, str(world.batch.uuid), NOW + offset, NOW)
    assert caught.value.body() == {"expires_at": [MSG_DEADLINE_IN_PAST]}
    assert batches_snapshot() == before


@pytest.mark.parametrize(
    "status", [BatchStatus.DRAFT, BatchStatus.RESPONDED, BatchStatus.CANCELLED]
)
def test_only_sent_or_expired_batches_can_be_extended(
    world: BatchWorld, status: BatchStatus
) -> None:
    AssignmentBatch.update(status=status).execute()
    before = batches_snapshot()
    with pytest.raises(RuleViolation) as caught:
        extend_deadline(world.manager, str(world.batch.uuid), NOW + timedelta(days=3), NOW)
    assert caught.value.body() == {"error": MSG_EXTEND_NOT_ALLOWED}
    assert batches_snapshot() == before


def test_update_sets_only_the_note_and_answers_the_retrieve_json(world: BatchWorld) -> None:
    result = batch_detail_out(
        update_batch(world.manager, str(world.batch.uuid), "<b>Read me</b>", NOW), Links.public()
    )
    assert world.fresh().manager_notes == "<b>Read me</b>"
    assert result.manager_notes == "<b>Read me</b>"
    assert result.uuid == str(world.batch.uuid)
    assert len(result.items) == 3
    assert world.fresh().status == BatchStatus.DRAFT


def test_a_patch_without_a_note_changes_nothing(world: BatchWorld) -> None:
    before = batches_snapshot()
    result = batch_detail_out(
        update_batch(world.manager, str(world.batch.uuid), None, NOW), Links.public()
    )
    assert result.manager_notes == "Thanks!"
    assert batches_snapshot() == before


@pytest.mark.parametrize("status", [BatchStatus.DRAFT, BatchStatus.CANCELLED])
def test_a_draft_or_cancelled_batch_is_deleted_with_its_items_and_conflict_links(
    world: BatchWorld, status: BatchStatus
) -> None:
    AssignmentBatch.update(status=status).execute()
    conflict = make_conflict(world.call, world.reviewer, world.items[2].proposal)
    ItemConflict.create(item=world.items[2], conflict=conflict)
    delete_batch(world.manager, str(world.batch.uuid))
    assert AssignmentBatch.select().count() == 0
    assert AssignmentItem.select().count() == 0
    assert ItemConflict.select().count() == 0
    assert ConflictOfInterest.select().count() == 1


@pytest.mark.parametrize("status", [BatchStatus.SENT, BatchStatus.RESPONDED, BatchStatus.EXPIRED])
def test_a_batch_that_went_out_cannot_be_deleted(world: BatchWorld, status: BatchStatus) -> None:
    AssignmentBatch.update(status=status).execute()
    before = batches_snapshot()
    with pytest.raises(RuleViolation) as caught:
        delete_batch(world.manager, str(world.batch.uuid))
    assert caught.value.body() == {"error": MSG_DELETE_NOT_ALLOWED}
    assert batches_snapshot() == before


def test_a_cancelled_batch_with_an_accepted_item_cannot_be_deleted(world: BatchWorld) -> None:
    AssignmentBatch.update(status=BatchStatus.CANCELLED).execute()
    AssignmentItem.update(status=ItemStatus.ACCEPTED).where(
        AssignmentItem.id == world.items[0].id
    ).execute()
    with pytest.raises(RuleViolation, match="without accepted items"):
        delete_batch(world.manager, str(world.batch.uuid))
    assert AssignmentBatch.select().count() == 1


# --- permissions ----------------------------------------------------------------------------


def manager_actions() -> list[tuple[str, Callable[[User, str], object]]]:
    return [
        ("send", lambda u, b: send_batch(u, b, NOW)),
        ("cancel", lambda u, b: cancel_batch(u, b, NOW)),
        ("extend", lambda u, b: extend_deadline(u, b, NOW + timedelta(days=30), NOW)),
        ("update", lambda u, b: update_batch(u, b, "hijacked", NOW)),
        ("delete", delete_batch),
    ]


@pytest.mark.parametrize("name,action", manager_actions())
def test_a_manager_action_by_the_batchs_reviewer_is_forbidden_and_changes_nothing(
    world: BatchWorld, name: str, action: Callable[[User, str], object]
) -> None:
    sent_batch(world)
    before = batches_snapshot()
    with pytest.raises(Forbidden):
        action(world.reviewer_user, str(world.batch.uuid))
    assert batches_snapshot() == before, name


@pytest.mark.parametrize("name,action", manager_actions())
def test_a_manager_action_on_another_calls_batch_or_a_hidden_draft_is_not_found(
    world: BatchWorld, name: str, action: Callable[[User, str], object]
) -> None:
    before = batches_snapshot()
    for user in (world.other_manager, world.stranger, world.reviewer_user):
        with pytest.raises(NotFound):
            action(user, str(world.batch.uuid))
    assert batches_snapshot() == before, name


@pytest.mark.parametrize("name,action", manager_actions())
def test_an_unknown_or_malformed_batch_id_is_not_found(
    world: BatchWorld, name: str, action: Callable[[User, str], object]
) -> None:
    for token in (str(uuid4()), "not-a-uuid"):
        with pytest.raises(NotFound):
            action(world.staff, token)


def test_staff_may_act_on_any_batch(world: BatchWorld) -> None:
    result = cancel_batch(world.staff, str(world.batch.uuid))
    assert cancelled_out(result).model_dump(mode="json") == {"message": MSG_CANCELLED}
