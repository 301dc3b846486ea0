"""Reading batches on SQLite and PostgreSQL: visibility per role, the seeds/000 filters,
ordering and pagination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from store import AssignmentBatch
from store.enums import BatchSource, BatchStatus
from tasks.batches.listing import BatchFilters, get_batch, list_batches, list_own_batches
from tasks.errors import FieldRejected, NotFound
from tests.builders import (
    NOW,
    BatchWorld,
    sent_batch,
)
from tests.factories import make_assignment_batch, make_call

# --- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [BatchStatus.DRAFT, BatchStatus.CANCELLED])
def test_a_reviewer_cannot_see_their_own_draft_or_cancelled_batch(
    world: BatchWorld, status: BatchStatus
) -> None:
    AssignmentBatch.update(status=status).execute()
    with pytest.raises(NotFound):
        get_batch(world.reviewer_user, str(world.batch.uuid))
    assert list_batches(world.reviewer_user) == ([], 0)


@pytest.mark.parametrize("status", [BatchStatus.SENT, BatchStatus.RESPONDED, BatchStatus.EXPIRED])
def test_a_reviewer_sees_their_own_sent_responded_or_expired_batch(
    world: BatchWorld, status: BatchStatus
) -> None:
    AssignmentBatch.update(status=status).execute()
    assert get_batch(world.reviewer_user, str(world.batch.uuid)).batch.status == status
    rows, total = list_batches(world.reviewer_user)
    assert total == 1 and [str(r.batch.uuid) for r in rows] == [str(world.batch.uuid)]


def test_a_reviewer_does_not_see_another_reviewers_sent_batch(world: BatchWorld) -> None:
    make_assignment_batch(world.call, status=BatchStatus.SENT)
    sent_batch(world)
    rows, total = list_batches(world.reviewer_user)
    assert (total, [str(r.batch.uuid) for r in rows]) == (1, [str(world.batch.uuid)])


def test_managers_see_their_calls_batches_and_outsiders_see_none(world: BatchWorld) -> None:
    make_assignment_batch(make_call())
    assert list_batches(world.manager)[1] == 1
    assert list_batches(world.staff)[1] == 2
    assert list_batches(world.stranger) == ([], 0)
    with pytest.raises(NotFound):
        get_batch(world.other_manager, str(world.batch.uuid))


def test_lists_filter_by_call_pool_entry_reviewer_status_source_and_sent_dates(
    world: BatchWorld,
) -> None:
    sent_batch(world)
    other = make_assignment_batch(world.call, source=BatchSource.MANUAL)
    elsewhere = make_assignment_batch(make_call(), world.reviewer, status=BatchStatus.SENT)
    entry_uuid = str(world.batch.reviewer_pool_entry.uuid)

    def uuids(**filters: Any) -> set[str]:
        rows, total = list_batches(world.staff, BatchFilters(**filters), page_size=None)
        assert total == len(rows)
        return {str(r.batch.uuid) for r in rows}

    mine, theirs, far = str(world.batch.uuid), str(other.uuid), str(elsewhere.uuid)
    assert uuids(call_uuid=str(world.call.uuid)) == {mine, theirs}
    assert uuids(reviewer_pool_entry_uuid=entry_uuid) == {mine}
    assert uuids(reviewer_uuid=str(world.reviewer.uuid)) == {mine, far}
    assert uuids(status=["sent", "draft"]) == {mine, theirs, far}
    assert uuids(status=["draft"]) == {theirs}
    assert uuids(source=["manual"]) == {theirs}
    assert uuids(sent_after=NOW - timedelta(days=11)) == {mine}
    assert uuids(sent_before=NOW - timedelta(days=11)) == set()


@pytest.mark.parametrize(
    "filters,field",
    [
        (BatchFilters(status=["bogus"]), "status"),
        (BatchFilters(source=["robot"]), "source"),
        (BatchFilters(reviewer_pool_entry_uuid="x"), "reviewer_pool_entry_uuid"),
    ],
)
def test_an_invalid_filter_value_is_rejected_on_its_field(
    world: BatchWorld, filters: BatchFilters, field: str
) -> None:
    with pytest.raises(FieldRejected) as caught:
        list_batches(world.staff, filters)
    assert list(caught.value.body()) == [field]


def test_lists_order_by_the_chosen_keys_and_paginate_with_a_total(world: BatchWorld) -> None:
    later = make_assignment_batch(
        world.call, status=BatchStatus.SENT, sent_at=NOW, expires_at=NOW + timedelta(days=1)
    )
    earlier = make_assignment_batch(
        world.call, status=BatchStatus.SENT, sent_at=NOW, expires_at=NOW - timedelta(days=1)
    )
    rows, _ = list_batches(world.manager, ordering=["expires_at"], page_size=None)
    assert [str(r.batch.uuid) for r in rows] == [
        str(earlier.uuid),
        str(later.uuid),
        str(world.batch.uuid),
    ]
    rows, _ = list_batches(world.manager, ordering=["-expires_at"], page_size=None)
    assert [str(r.batch.uuid) for r in rows] == [  # NULL first descending, as PostgreSQL
        str(world.batch.uuid),
        str(later.uuid),
        str(earlier.uuid),
    ]
    page, total = list_batches(world.manager, ordering=["expires_at"], page=2, page_size=2)
    assert (total, [str(r.batch.uuid) for r in page]) == (3, [str(world.batch.uuid)])
    with pytest.raises(FieldRejected) as caught:
        list_batches(world.manager, ordering=["password"])
    assert list(caught.value.body()) == ["o"]


def test_the_default_order_is_newest_first(world: BatchWorld) -> None:
    AssignmentBatch.update(created=NOW - timedelta(days=1)).execute()
    newer = make_assignment_batch(world.call, created=NOW)
    rows, _ = list_batches(world.manager)
    assert [str(r.batch.uuid) for r in rows] == [str(newer.uuid), str(world.batch.uuid)]


def test_my_batches_are_the_reviewers_own_visible_ones_newest_first_with_counts(
    world: BatchWorld,
) -> None:
    sent_batch(world)
    newer = make_assignment_batch(
        make_call(), world.reviewer, status=BatchStatus.SENT, sent_at=NOW + timedelta(days=1)
    )
    expired = make_assignment_batch(
        make_call(), world.reviewer, status=BatchStatus.EXPIRED, sent_at=NOW - timedelta(days=20)
    )
    make_assignment_batch(make_call(), world.reviewer, status=BatchStatus.CANCELLED, sent_at=NOW)
    make_assignment_batch(world.call, status=BatchStatus.SENT, sent_at=NOW)
    rows, total = list_own_batches(world.reviewer_user)
    assert (total, [str(r.batch.uuid) for r in rows]) == (
        3,
        [str(newer.uuid), str(world.batch.uuid), str(expired.uuid)],
    )
    assert (rows[1].counts.total, rows[1].items) == (3, [])
    assert list_own_batches(world.manager) == ([], 0)
