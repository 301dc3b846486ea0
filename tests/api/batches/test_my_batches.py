"""`/api/my-assignment-batches/` over HTTP, on SQLite and PostgreSQL: the caller's own sent,
responded and expired batches, newest first, in Waldur's slim shapes, with their items (in the
detail) as the invitation shows them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from store import AssignmentBatch, Call
from store.enums import BatchStatus, Disclosure
from tests.builders import BatchWorld, response_uuids
from tests.factories import make_assignment_batch, make_call, make_sent, with_token

#: Waldur's MyAssignmentBatch and MyAssignmentItem, field for field
SLIM_BATCH_KEYS = [
    "uuid",
    "call_uuid",
    "call_name",
    "status",
    "status_display",
    "sent_at",
    "expires_at",
    "is_expired",
    "items_count",
    "items_pending_count",
    "manager_notes",
]
SLIM_ITEM_KEYS = [
    "uuid",
    "proposal_uuid",
    "proposal_name",
    "proposal_slug",
    "proposal_summary",
    "status",
    "status_display",
    "affinity_score",
    "has_coi",
]


def test_my_batches_are_my_sent_ones_newest_first_with_items(
    api_client: TestClient, world: BatchWorld
) -> None:
    newer = make_assignment_batch(world.call, world.reviewer)
    make_sent(world.batch, days_ago=3)
    make_sent(newer, days_ago=1)
    make_assignment_batch(make_call(), world.reviewer)  # a draft: not listed
    headers = with_token(world.reviewer_user)
    response = api_client.get("/api/my-assignment-batches/", headers=headers)
    assert response_uuids(response) == [str(newer.uuid), str(world.batch.uuid)]
    assert response.headers["X-Result-Count"] == "2"
    assert list(response.json()[1]) == SLIM_BATCH_KEYS  # Waldur's slim list: no items
    assert response.json()[1]["items_count"] == 3
    head = api_client.head("/api/my-assignment-batches/", headers=headers)
    assert (head.headers["X-Result-Count"], head.content) == ("2", b"")
    mine = api_client.get(f"/api/my-assignment-batches/{world.batch.uuid}/", headers=headers)
    assert mine.status_code == 200 and list(mine.json()) == [*SLIM_BATCH_KEYS, "items"]
    assert [list(item) for item in mine.json()["items"]] == [SLIM_ITEM_KEYS] * 3
    others = api_client.get(
        f"/api/my-assignment-batches/{world.batch.uuid}/", headers=with_token(world.manager)
    )
    assert others.status_code == 404


def test_my_batch_items_show_summaries_only_as_the_call_discloses_them(
    api_client: TestClient, world: BatchWorld
) -> None:
    make_sent(world.batch)
    headers = with_token(world.reviewer_user)
    path = f"/api/my-assignment-batches/{world.batch.uuid}/"
    hidden = [i["proposal_summary"] for i in api_client.get(path, headers=headers).json()["items"]]
    Call.update(proposal_disclosure=Disclosure.TITLES_AND_SUMMARIES).execute()
    shown = [i["proposal_summary"] for i in api_client.get(path, headers=headers).json()["items"]]
    assert hidden == ["", "", ""]
    assert shown == ["About qubits", "About gates", ""]  # never for a COI-blocked item


def test_my_responded_and_expired_batches_stay_visible_to_me(
    api_client: TestClient, world: BatchWorld
) -> None:
    make_sent(world.batch)
    headers = with_token(world.reviewer_user)
    for status in (BatchStatus.RESPONDED, BatchStatus.EXPIRED):
        AssignmentBatch.update(status=status).where(AssignmentBatch.id == world.batch.id).execute()
        listed = api_client.get("/api/my-assignment-batches/", headers=headers)
        one = api_client.get(f"/api/my-assignment-batches/{world.batch.uuid}/", headers=headers)
        assert (response_uuids(listed), one.status_code) == ([str(world.batch.uuid)], 200)
        assert one.json()["status"] == status.value


def test_cancelled_or_other_reviewers_batches_are_not_mine(
    api_client: TestClient, world: BatchWorld
) -> None:
    make_sent(make_assignment_batch(world.call))  # someone else's
    make_sent(world.batch)
    AssignmentBatch.update(status=BatchStatus.CANCELLED).where(
        AssignmentBatch.id == world.batch.id
    ).execute()
    headers = with_token(world.reviewer_user)
    listed = api_client.get("/api/my-assignment-batches/", headers=headers)
    one = api_client.get(f"/api/my-assignment-batches/{world.batch.uuid}/", headers=headers)
    assert (listed.json(), one.status_code) == ([], 404)
