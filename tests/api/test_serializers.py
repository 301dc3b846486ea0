"""The seeds/000 JSON of batches and items (api/serializers over tasks/batches/views.py): every
field, its type, absolute urls, and lists built with a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from peewee import Database

from api.serializers.batches import batch_detail_out, batch_out
from api.serializers.links import Links
from store import (
    AssignmentBatch,
    AssignmentItem,
    ConflictOfInterest,
    ItemConflict,
    Review,
    database,
)
from store.enums import BatchSource, BatchStatus, CoiStatus, ItemStatus, ReviewState
from tasks.batches.listing import list_batches
from tasks.batches.views import batch_view, batch_views
from tests.builders import (
    NOW,
    PUBLIC_URL,
    BatchWorld,
    build_batch_world,
)
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_conflict,
)

URI, UUID, STR, INT, BOOL, NUM, WHEN, LIST = (
    "uri",
    "uuid",
    "str",
    "int",
    "bool",
    "num",
    "dt",
    "list",
)

# seeds/000 "Field Type Description", in its order; nullable ones marked with "?".
BATCH_FIELDS = {
    "url": URI,
    "uuid": UUID,
    "call": URI,
    "call_uuid": UUID,
    "call_name": STR,
    "reviewer_pool_entry": URI,
    "reviewer_pool_entry_uuid": UUID,
    "reviewer_name": STR,
    "reviewer_email": STR,
    "reviewer_uuid": UUID,
    "status": STR,
    "status_display": STR,
    "sent_at": WHEN + "?",
    "expires_at": WHEN + "?",
    "responded_at": WHEN + "?",
    "source": STR,
    "source_display": STR,
    "created_by": URI + "?",
    "created_by_name": STR,
    "manager_notes": STR,
    "items": LIST,
    "items_count": INT,
    "items_pending_count": INT,
    "items_accepted_count": INT,
    "items_declined_count": INT,
    "is_expired": BOOL,
    "created": WHEN,
}
ITEM_FIELDS = {
    "url": URI,
    "uuid": UUID,
    "batch": URI,
    "proposal": URI,
    "proposal_uuid": UUID,
    "proposal_name": STR,
    "proposal_slug": STR,
    "status": STR,
    "status_display": STR,
    "affinity_score": NUM + "?",
    "has_coi": BOOL,
    "coi_count": INT,
    "responded_at": WHEN + "?",
    "decline_reason": STR,
    "review": URI + "?",
    "review_uuid": UUID + "?",
    "reassign_count": INT,
    "created": WHEN,
}


def has_type(value: Any, kind: str) -> bool:
    if kind.endswith("?"):
        return value is None or has_type(value, kind[:-1])
    checks = {
        URI: lambda v: isinstance(v, str) and v.startswith(PUBLIC_URL + "/api/") and v[-1] == "/",
        UUID: lambda v: isinstance(v, str) and len(v) == 36,
        STR: lambda v: isinstance(v, str),
        INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
        BOOL: lambda v: isinstance(v, bool),
        NUM: lambda v: isinstance(v, float),
        WHEN: lambda v: isinstance(v, str) and datetime.fromisoformat(v) is not None,
        LIST: lambda v: isinstance(v, list),
    }
    return bool(checks[kind](value))


@pytest.fixture
def world(db: Database, public_url: str) -> BatchWorld:
    return build_batch_world()


def batch_json(batch: AssignmentBatch, *, now: datetime | None = None) -> dict[str, Any]:
    """seeds/000's retrieve JSON of a batch, as the serializer writes it."""
    return batch_detail_out(batch_view(batch, now=now), Links.public()).model_dump(mode="json")


def batches_json(query: Any, *, with_items: bool) -> list[dict[str, Any]]:
    """The list (or, with items, retrieve) JSON of the batches `query` selects."""
    out = batch_detail_out if with_items else batch_out
    return [
        out(view, Links.public()).model_dump(mode="json")
        for view in batch_views(query, with_items=with_items)
    ]


def test_a_batch_has_every_seeds_field_in_order_with_its_type(world: BatchWorld) -> None:
    body = batch_json(world.batch)
    assert list(body) == list(BATCH_FIELDS)
    assert {k: v for k, v in body.items() if not has_type(v, BATCH_FIELDS[k])} == {}
    for item in body["items"]:
        assert list(item) == list(ITEM_FIELDS)
        assert {k: v for k, v in item.items() if not has_type(v, ITEM_FIELDS[k])} == {}


def test_a_list_row_is_the_retrieve_form_without_items(world: BatchWorld) -> None:
    (row,) = batches_json(AssignmentBatch.select(), with_items=False)
    expected = {k: v for k, v in batch_json(world.batch).items() if k != "items"}
    assert row == expected


def test_the_urls_are_absolute_and_name_the_related_records(world: BatchWorld) -> None:
    body = batch_json(world.batch)
    batch, call = world.batch, world.call
    entry = batch.reviewer_pool_entry
    assert body["url"] == f"{PUBLIC_URL}/api/assignment-batches/{batch.uuid}/"
    assert body["call"] == f"{PUBLIC_URL}/api/proposal-protected-calls/{call.uuid}/"
    assert body["reviewer_pool_entry"] == (f"{PUBLIC_URL}/api/call-reviewer-pools/{entry.uuid}/")
    assert body["created_by"] == f"{PUBLIC_URL}/api/users/{world.manager.uuid}/"
    item = body["items"][0]
    assert item["url"] == f"{PUBLIC_URL}/api/assignment-items/{world.items[0].uuid}/"
    assert item["batch"] == body["url"]
    assert item["proposal"] == (
        f"{PUBLIC_URL}/api/proposal-proposals/{world.items[0].proposal.uuid}/"
    )


def test_the_batch_names_its_call_reviewer_creator_and_labels(world: BatchWorld) -> None:
    body = batch_json(world.batch)
    assert (body["call_name"], body["call_uuid"]) == (
        "Quantum Computing 2026",
        str(world.call.uuid),
    )
    assert (body["reviewer_name"], body["reviewer_email"], body["reviewer_uuid"]) == (
        "Rita Reviewer",
        "rita@example.org",
        str(world.reviewer.uuid),
    )
    assert (body["status"], body["status_display"]) == ("draft", "Draft - pending approval")
    assert (body["source"], body["source_display"]) == ("algorithm", "Algorithm-generated")
    assert body["created_by_name"] == "Mona Manager"
    assert (body["sent_at"], body["expires_at"], body["is_expired"]) == (None, None, False)


def test_every_status_and_source_is_labelled_as_waldur_labels_it(world: BatchWorld) -> None:
    batch_labels, item_labels = {}, {}
    for status in BatchStatus:
        AssignmentBatch.update(status=status).execute()
        batch_labels[status.value] = batch_json(world.batch)["status_display"]
    for item_status in ItemStatus:
        AssignmentItem.update(status=item_status).execute()
        item_labels[item_status.value] = batch_json(world.batch)["items"][0]["status_display"]
    assert batch_labels == {
        "draft": "Draft - pending approval",
        "sent": "Sent to reviewer",
        "responded": "Reviewer responded",
        "expired": "Invitation expired",
        "cancelled": "Cancelled by manager",
    }
    assert item_labels == {
        "pending": "Awaiting response",
        "accepted": "Accepted",
        "declined": "Declined",
        "expired": "Expired without response",
        "reassigned": "Reassigned to another reviewer",
        "coi_blocked": "Blocked due to COI",
    }


def test_a_batch_without_creator_has_null_created_by_and_an_empty_name(db: Database) -> None:
    batch = make_assignment_batch(make_call(), source=BatchSource.MANUAL)
    body = batch_json(batch)
    assert (body["created_by"], body["created_by_name"]) == (None, "")
    assert body["source_display"] == "Manually assigned"


def test_counts_follow_item_statuses_and_is_expired_follows_the_clock(world: BatchWorld) -> None:
    AssignmentItem.update(status=ItemStatus.ACCEPTED).where(
        AssignmentItem.id == world.items[0].id
    ).execute()
    make_assignment_item(world.batch, status=ItemStatus.DECLINED, decline_reason="Busy")
    AssignmentBatch.update(
        status=BatchStatus.SENT, sent_at=NOW, expires_at=NOW + timedelta(days=1)
    ).execute()
    body = batch_json(world.batch, now=NOW)
    counts = {k: v for k, v in body.items() if k.startswith("items_")}
    assert counts == {
        "items_count": 4,
        "items_pending_count": 1,
        "items_accepted_count": 1,
        "items_declined_count": 1,
    }
    assert body["is_expired"] is False
    assert batch_json(world.batch, now=NOW + timedelta(days=2))["is_expired"] is True
    assert (body["sent_at"], body["expires_at"]) == ("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z")


def test_an_item_shows_its_review_coi_count_and_affinity(world: BatchWorld) -> None:
    blocked = world.items[2]
    live = make_conflict(world.call, world.reviewer, blocked.proposal)
    dismissed = ConflictOfInterest.create(
        call=world.call,
        reviewer=world.reviewer,
        proposal=blocked.proposal,
        coi_type="CO_AUTHOR",
        status=CoiStatus.DISMISSED,
    )
    for conflict in (live, dismissed):
        ItemConflict.create(item=blocked, conflict=conflict)
    review = Review.create(proposal=world.items[0].proposal, state=ReviewState.IN_REVIEW)
    AssignmentItem.update(status=ItemStatus.ACCEPTED, review=review, affinity_score=0.75).where(
        AssignmentItem.id == world.items[0].id
    ).execute()
    items = batch_json(world.batch)["items"]
    assert (items[0]["review_uuid"], items[0]["affinity_score"]) == (str(review.uuid), 0.75)
    assert items[0]["review"] == f"{PUBLIC_URL}/api/proposal-reviews/{review.uuid}/"
    assert (items[0]["status"], items[0]["status_display"]) == ("accepted", "Accepted")
    # every linked record counts, the dismissed one too (Waldur's coi_count)
    assert (items[2]["has_coi"], items[2]["coi_count"], items[2]["status_display"]) == (
        True,
        2,
        "Blocked due to COI",
    )
    assert (items[1]["review"], items[1]["coi_count"]) == (None, 0)


@pytest.fixture
def query_counter() -> Iterator[list[str]]:
    """Every SQL statement the database runs while the fixture is active."""
    seen: list[str] = []
    real = database.obj.execute_sql

    def counting(sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return real(sql, *args, **kwargs)

    database.obj.execute_sql = counting
    yield seen
    database.obj.execute_sql = real


def add_batches(world: BatchWorld, count: int) -> None:
    for n in range(count):
        batch = make_assignment_batch(
            world.call if n % 2 else make_call(), created_by=world.manager
        )
        make_assignment_item(batch)
        make_assignment_item(batch, status=ItemStatus.COI_BLOCKED, has_coi=True)


@pytest.mark.parametrize("with_items", [False, True])
def test_a_list_runs_the_same_number_of_queries_for_2_or_20_batches(
    world: BatchWorld, query_counter: list[str], with_items: bool
) -> None:
    counts = []
    for extra in (1, 18):
        add_batches(world, extra)
        query_counter.clear()
        rows, total = list_batches(world.staff, page_size=None, with_items=with_items)
        assert len(rows) == total
        counts.append(len(query_counter))
    assert counts[0] == counts[1]
    assert 3 <= counts[1] <= (6 if with_items else 4)


def test_batches_json_keeps_the_order_of_the_query(world: BatchWorld) -> None:
    second = make_assignment_batch(world.call)
    query = AssignmentBatch.select().order_by(AssignmentBatch.id.desc())
    rows = batches_json(query, with_items=False)
    assert [r["uuid"] for r in rows] == [str(second.uuid), str(world.batch.uuid)]
    assert (
        batches_json(AssignmentBatch.select().where(AssignmentBatch.id < 0), with_items=True) == []
    )
