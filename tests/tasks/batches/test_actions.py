"""The manager's batch actions on SQLite and PostgreSQL: cancel, extend, update, delete, every
refusal with its exact message, and the permissions of every manager action (send included).

The shared world and fixtures defined here are imported by the other batch test modules
(sending: test_batch_send.py; reading: test_batch_listing.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from peewee import Database

from config import get_settings
from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ConflictOfInterest,
    ItemConflict,
    Notification,
    Reviewer,
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
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_conflict,
    make_proposal,
    make_reviewer,
    make_user,
)

PUBLIC_URL = "https://reviews.example.org"
NOW = datetime(2026, 3, 1, 12, 0)


@dataclass
class World:
    call: Call
    manager: User
    staff: User
    reviewer_user: User
    reviewer: Reviewer
    batch: AssignmentBatch
    items: list[AssignmentItem]
    other_manager: User
    stranger: User

    def fresh(self) -> AssignmentBatch:
        return AssignmentBatch.get_by_id(self.batch.id)

    def item_statuses(self) -> list[ItemStatus]:
        return [AssignmentItem.get_by_id(item.id).status for item in self.items]


def build_world(**call_fields: Any) -> World:
    call = make_call(name="Quantum Computing 2026", **call_fields)
    reviewer_user = make_user(username="rita")
    reviewer = make_reviewer(user=reviewer_user, name="Rita Reviewer", email="rita@example.org")
    manager = make_call_manager(call, username="mona", full_name="Mona Manager")
    batch = make_assignment_batch(call, reviewer, created_by=manager, manager_notes="Thanks!")
    items = [
        make_assignment_item(batch, make_proposal(call, name="Qubits", summary="About qubits")),
        make_assignment_item(batch, make_proposal(call, name="Gates", summary="About gates")),
        make_assignment_item(
            batch,
            make_proposal(call, name="Blocked one", summary="Secret summary"),
            status=ItemStatus.COI_BLOCKED,
            has_coi=True,
        ),
    ]
    return World(
        call=call,
        manager=manager,
        staff=make_user(is_staff=True),
        reviewer_user=reviewer_user,
        reviewer=reviewer,
        batch=batch,
        items=items,
        other_manager=make_call_manager(make_call()),
        stranger=make_user(),
    )


def snapshot() -> tuple[list[Any], list[Any], int]:
    """Every batch and item row's state and the number of notifications."""
    batches = list(AssignmentBatch.select().order_by(AssignmentBatch.id).dicts())
    items = list(AssignmentItem.select().order_by(AssignmentItem.id).dicts())
    return batches, items, Notification.select().count()


@pytest.fixture
def public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL + "/")
    get_settings.cache_clear()
    yield PUBLIC_URL
    get_settings.cache_clear()


@pytest.fixture
def world(db: Database, public_url: str) -> World:
    return build_world()


@pytest.mark.parametrize("status", [BatchStatus.DRAFT, BatchStatus.SENT])
def test_a_draft_or_sent_batch_can_be_cancelled(world: World, status: BatchStatus) -> None:
    AssignmentBatch.update(status=status).execute()
    result = cancel_batch(world.manager, str(world.batch.uuid), NOW)
    assert result.body == {"message": MSG_CANCELLED}
    assert world.fresh().status == BatchStatus.CANCELLED
    assert world.item_statuses() == [ItemStatus.PENDING, ItemStatus.PENDING, ItemStatus.COI_BLOCKED]


@pytest.mark.parametrize(
    "status", [BatchStatus.RESPONDED, BatchStatus.EXPIRED, BatchStatus.CANCELLED]
)
def test_other_statuses_cannot_be_cancelled(world: World, status: BatchStatus) -> None:
    AssignmentBatch.update(status=status).execute()
    before = snapshot()
    with pytest.raises(RuleViolation) as caught:
        cancel_batch(world.manager, str(world.batch.uuid), NOW)
    assert caught.value.body() == {"error": MSG_CANCEL_NOT_ALLOWED}
    assert snapshot() == before


def sent_batch(world: World, *, status: BatchStatus = BatchStatus.SENT) -> None:
    AssignmentBatch.update(
        status=status,
        sent_at=NOW - timedelta(days=10),
        expires_at=NOW - timedelta(days=3) if status == BatchStatus.EXPIRED else NOW,
        reminder_sent=True,
        manager_notified=status == BatchStatus.EXPIRED,
    ).execute()


def test_extending_a_sent_batch_changes_only_its_deadline(world: World) -> None:
    sent_batch(world)
    new = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)
    result = extend_deadline(world.manager, str(world.batch.uuid), new, NOW)
    batch = world.fresh()
    assert result.body == {"expires_at": "2026-03-20T09:30:00Z", "status": "sent"}
    assert batch.expires_at == datetime(2026, 3, 20, 9, 30)
    assert (batch.status, batch.reminder_sent, batch.sent_at) == (
        BatchStatus.SENT,
        True,
        NOW - timedelta(days=10),
    )


def test_extending_an_expired_batch_reactivates_it_its_expired_items_and_its_reminders(
    world: World,
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
    assert result.body == {"expires_at": "2026-03-06T12:00:00Z", "status": "sent"}
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
    world: World, status: BatchStatus, offset: timedelta
) -> None:
    sent_batch(world, status=status)
    before = snapshot()
    with pytest.raises(FieldRejected) as caught:
        extend_deadline(world.manager, str(world.batch.uuid), NOW + offset, NOW)
    assert caught.value.body() == {"expires_at": [MSG_DEADLINE_IN_PAST]}
    assert snapshot() == before


@pytest.mark.parametrize(
    "status", [BatchStatus.DRAFT, BatchStatus.RESPONDED, BatchStatus.CANCELLED]
)
def test_only_sent_or_expired_batches_can_be_extended(world: World, status: BatchStatus) -> None:
    AssignmentBatch.update(status=status).execute()
    before = snapshot()
    with pytest.raises(RuleViolation) as caught:
        extend_deadline(world.manager, str(world.batch.uuid), NOW + timedelta(days=3), NOW)
    assert caught.value.body() == {"error": MSG_EXTEND_NOT_ALLOWED}
    assert snapshot() == before


def test_update_sets_only_the_note_and_answers_the_retrieve_json(world: World) -> None:
    result = update_batch(world.manager, str(world.batch.uuid), "<b>Read me</b>", NOW)
    assert world.fresh().manager_notes == "<b>Read me</b>"
    assert result.body["manager_notes"] == "<b>Read me</b>"
    assert result.body["uuid"] == str(world.batch.uuid)
    assert len(result.body["items"]) == 3
    assert world.fresh().status == BatchStatus.DRAFT


def test_a_patch_without_a_note_changes_nothing(world: World) -> None:
    before = snapshot()
    result = update_batch(world.manager, str(world.batch.uuid), None, NOW)
    assert result.body["manager_notes"] == "Thanks!"
    assert snapshot() == before


@pytest.mark.parametrize("status", [BatchStatus.DRAFT, BatchStatus.CANCELLED])
def test_a_draft_or_cancelled_batch_is_deleted_with_its_items_and_conflict_links(
    world: World, status: BatchStatus
) -> None:
    AssignmentBatch.update(status=status).execute()
    conflict = make_conflict(world.call, world.reviewer, world.items[2].proposal)
    ItemConflict.create(item=world.items[2], conflict=conflict)
    result = delete_batch(world.manager, str(world.batch.uuid))
    assert result.body == {}
    assert AssignmentBatch.select().count() == 0
    assert AssignmentItem.select().count() == 0
    assert ItemConflict.select().count() == 0
    assert ConflictOfInterest.select().count() == 1


@pytest.mark.parametrize("status", [BatchStatus.SENT, BatchStatus.RESPONDED, BatchStatus.EXPIRED])
def test_a_batch_that_went_out_cannot_be_deleted(world: World, status: BatchStatus) -> None:
    AssignmentBatch.update(status=status).execute()
    before = snapshot()
    with pytest.raises(RuleViolation) as caught:
        delete_batch(world.manager, str(world.batch.uuid))
    assert caught.value.body() == {"error": MSG_DELETE_NOT_ALLOWED}
    assert snapshot() == before


def test_a_cancelled_batch_with_an_accepted_item_cannot_be_deleted(world: World) -> None:
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
    world: World, name: str, action: Callable[[User, str], object]
) -> None:
    sent_batch(world)
    before = snapshot()
    with pytest.raises(Forbidden):
        action(world.reviewer_user, str(world.batch.uuid))
    assert snapshot() == before, name


@pytest.mark.parametrize("name,action", manager_actions())
def test_a_manager_action_on_another_calls_batch_or_a_hidden_draft_is_not_found(
    world: World, name: str, action: Callable[[User, str], object]
) -> None:
    before = snapshot()
    for user in (world.other_manager, world.stranger, world.reviewer_user):
        with pytest.raises(NotFound):
            action(user, str(world.batch.uuid))
    assert snapshot() == before, name


@pytest.mark.parametrize("name,action", manager_actions())
def test_an_unknown_or_malformed_batch_id_is_not_found(
    world: World, name: str, action: Callable[[User, str], object]
) -> None:
    for token in (str(uuid4()), "not-a-uuid"):
        with pytest.raises(NotFound):
            action(world.staff, token)


def test_staff_may_act_on_any_batch(world: World) -> None:
    assert cancel_batch(world.staff, str(world.batch.uuid)).body == {"message": MSG_CANCELLED}
