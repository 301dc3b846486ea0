"""Acting on /api/assignment-items/ over HTTP on SQLite and PostgreSQL: the reviewer's answers
(accept, decline, editing the reason), the manager's reassignment, force-unblock, suggestions and
delete, with their status codes, exact messages and permissions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from store import AssignmentBatch, AssignmentItem, ItemConflict, Review
from store.enums import BatchStatus, CoiStatus, ItemStatus
from tasks.errors import (
    MSG_ACCEPT_NOT_PENDING,
    MSG_ACCEPTED,
    MSG_DECLINED,
    MSG_FORCE_UNBLOCK_NOT_BLOCKED,
    MSG_FORCE_UNBLOCKED,
    MSG_ITEM_DELETE_NOT_ALLOWED,
    MSG_REASSIGN_NOT_ALLOWED,
    MSG_REASSIGNED,
)
from tests.builders import ITEMS, ItemsWorld, fresh
from tests.factories import (
    make_conflict,
    make_pool_entry,
    make_reviewer,
)


def item_status(item: AssignmentItem) -> ItemStatus:
    return fresh(item).status


# --- accept and decline -----------------------------------------------------------------------


def test_the_reviewer_accepts_their_item_and_gets_the_new_review(
    api_client: TestClient, world: ItemsWorld
) -> None:
    item = world.items[0]
    response = api_client.post(f"{ITEMS}{item.uuid}/accept/", headers=world.auth["rita"])
    assert response.status_code == 200
    assert response.json()["detail"] == MSG_ACCEPTED
    review = Review.get(Review.uuid == response.json()["review_uuid"])
    retrieved = api_client.get(f"{ITEMS}{item.uuid}/", headers=world.auth["rita"]).json()
    assert (retrieved["status"], retrieved["review_uuid"]) == ("accepted", str(review.uuid))


@pytest.mark.parametrize("who", ["manager", "staff"])
@pytest.mark.parametrize("action", ["accept", "decline"])
def test_a_manager_answering_for_the_reviewer_is_403_and_nothing_changes(
    api_client: TestClient, world: ItemsWorld, who: str, action: str
) -> None:
    item = world.items[0]
    response = api_client.post(f"{ITEMS}{item.uuid}/{action}/", headers=world.auth[who])
    assert response.status_code == 403
    assert item_status(item) == ItemStatus.PENDING and Review.select().count() == 0


def test_the_reviewer_declines_with_a_reason(api_client: TestClient, world: ItemsWorld) -> None:
    item = world.items[1]
    response = api_client.post(
        f"{ITEMS}{item.uuid}/decline/", json={"reason": "Too busy"}, headers=world.auth["rita"]
    )
    assert response.json() == {"detail": MSG_DECLINED, "review_uuid": None}
    assert AssignmentItem.get_by_id(item.id).decline_reason == "Too busy"


def test_a_decline_without_a_body_has_an_empty_reason(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.post(f"{ITEMS}{world.items[0].uuid}/decline/", headers=world.auth["rita"])
    assert response.status_code == 200
    assert item_status(world.items[0]) == ItemStatus.DECLINED


def test_accepting_an_item_that_is_not_pending_is_400_with_the_exact_message(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.post(f"{ITEMS}{world.items[2].uuid}/accept/", headers=world.auth["rita"])
    assert (response.status_code, response.json()) == (400, {"error": MSG_ACCEPT_NOT_PENDING})


def test_a_reason_with_a_nul_character_is_400_naming_the_field_and_nothing_changes(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.post(
        f"{ITEMS}{world.items[0].uuid}/decline/",
        json={"reason": "a\x00b"},
        headers=world.auth["rita"],
    )
    assert response.status_code == 400 and sorted(response.json()) == ["reason"]
    assert item_status(world.items[0]) == ItemStatus.PENDING


# --- reassign, force-unblock, suggestions -----------------------------------------------------


def declined(world: ItemsWorld) -> AssignmentItem:
    item = world.items[0]
    AssignmentItem.update(status=ItemStatus.DECLINED).where(AssignmentItem.id == item.id).execute()
    return item


def test_the_manager_reassigns_a_declined_item_to_another_pool_entry(
    api_client: TestClient, world: ItemsWorld
) -> None:
    item, entry = declined(world), make_pool_entry(world.call, make_reviewer())
    response = api_client.post(
        f"{ITEMS}{item.uuid}/reassign/",
        json={"reviewer_pool_entry_uuid": str(entry.uuid), "manager_notes": "Please"},
        headers=world.auth["manager"],
    )
    body = response.json()
    assert (response.status_code, body["detail"], body["has_coi"]) == (200, MSG_REASSIGNED, False)
    new_batch = AssignmentBatch.get(AssignmentBatch.uuid == body["new_batch_uuid"])
    assert (new_batch.manager_notes, item_status(item)) == ("Please", ItemStatus.REASSIGNED)


def test_reassigning_a_pending_item_is_400_with_the_exact_message(
    api_client: TestClient, world: ItemsWorld
) -> None:
    entry = make_pool_entry(world.call, make_reviewer())
    response = api_client.post(
        f"{ITEMS}{world.items[0].uuid}/reassign/",
        json={"reviewer_pool_entry_uuid": str(entry.uuid)},
        headers=world.auth["manager"],
    )
    assert (response.status_code, response.json()) == (400, {"error": MSG_REASSIGN_NOT_ALLOWED})


def test_a_reassignment_without_a_valid_pool_entry_uuid_names_the_field(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.post(
        f"{ITEMS}{declined(world).uuid}/reassign/",
        json={"reviewer_pool_entry_uuid": "x"},
        headers=world.auth["manager"],
    )
    assert response.status_code == 400
    assert sorted(response.json()) == ["reviewer_pool_entry_uuid"]


def test_a_reviewer_reassigning_their_item_is_403(
    api_client: TestClient, world: ItemsWorld
) -> None:
    entry = make_pool_entry(world.call, make_reviewer())
    response = api_client.post(
        f"{ITEMS}{declined(world).uuid}/reassign/",
        json={"reviewer_pool_entry_uuid": str(entry.uuid)},
        headers=world.auth["rita"],
    )
    assert response.status_code == 403 and item_status(world.items[0]) == ItemStatus.DECLINED


def test_force_unblock_answers_the_now_pending_item(
    api_client: TestClient, world: ItemsWorld
) -> None:
    item = world.items[2]
    conflict = make_conflict(world.call, world.reviewer, AssignmentItem.get_by_id(item.id).proposal)
    ItemConflict.create(item=item, conflict=conflict)
    response = api_client.post(
        f"{ITEMS}{item.uuid}/force-unblock/",
        json={"override_reason": "Different department"},
        headers=world.auth["manager"],
    )
    body = response.json()
    assert (response.status_code, body["detail"], body["status"]) == (
        200,
        MSG_FORCE_UNBLOCKED,
        "pending",
    )
    assert (body["override_reason"], body["overridden_by_name"]) == ("Different department", "Mona")
    # as Waldur: no longer has_coi; the overridden conflict stays linked, and counted
    assert (body["has_coi"], body["coi_count"]) == (False, 1)
    assert body["overridden_at"] is not None and fresh(item).has_coi is False


@pytest.mark.parametrize(
    ("index", "reason", "expected"),
    [
        (2, "  ", {"override_reason": ["This field may not be blank."]}),
        (0, "why", {"error": MSG_FORCE_UNBLOCK_NOT_BLOCKED}),
    ],
)
def test_force_unblock_refuses_a_blank_reason_or_an_item_that_is_not_blocked(
    api_client: TestClient, world: ItemsWorld, index: int, reason: str, expected: dict[str, Any]
) -> None:
    item = world.items[index]
    before = item_status(item)
    response = api_client.post(
        f"{ITEMS}{item.uuid}/force-unblock/",
        json={"override_reason": reason},
        headers=world.auth["manager"],
    )
    assert (response.status_code, response.json()) == (400, expected)
    assert item_status(item) == before


def test_suggestions_list_eligible_pool_entries_with_their_capacity(
    api_client: TestClient, world: ItemsWorld
) -> None:
    entry = make_pool_entry(world.call, make_reviewer(), max_assignments=4)
    response = api_client.get(
        f"{ITEMS}{world.items[0].uuid}/suggest_alternatives/", headers=world.auth["manager"]
    )
    by_entry = {s["pool_entry_uuid"]: s for s in response.json()["suggestions"]}
    suggestion = by_entry[str(entry.uuid)]
    assert (suggestion["current_assignments"], suggestion["max_assignments"]) == (0, 4)


def test_a_reviewer_asking_for_suggestions_is_403(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.get(
        f"{ITEMS}{world.items[0].uuid}/suggest_alternatives/", headers=world.auth["rita"]
    )
    assert response.status_code == 403


# --- delete -----------------------------------------------------------------------------------


def test_the_manager_deletes_a_pending_item_of_a_draft_batch(
    api_client: TestClient, world: ItemsWorld
) -> None:
    url = f"{ITEMS}{world.draft_item.uuid}/"
    response = api_client.delete(url, headers=world.auth["manager"])
    assert (response.status_code, response.content) == (204, b"")
    assert api_client.delete(url, headers=world.auth["manager"]).status_code == 404
    assert AssignmentBatch.get_or_none(AssignmentBatch.id == world.draft.id) is not None


def test_an_item_of_a_sent_batch_cannot_be_deleted(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.delete(f"{ITEMS}{world.items[0].uuid}/", headers=world.auth["staff"])
    assert (response.status_code, response.json()) == (400, {"error": MSG_ITEM_DELETE_NOT_ALLOWED})
    assert AssignmentItem.select().count() == 4


@pytest.mark.parametrize(
    ("who", "code"), [("rita", 403), ("stranger", 404), ("other_manager", 404)]
)
def test_only_a_manager_deletes_an_item(
    api_client: TestClient, world: ItemsWorld, who: str, code: int
) -> None:
    response = api_client.delete(f"{ITEMS}{world.items[0].uuid}/", headers=world.auth[who])
    assert response.status_code == code and AssignmentItem.select().count() == 4


def test_a_coi_blocked_item_of_a_cancelled_batch_is_deleted_with_its_conflict_links(
    api_client: TestClient, world: ItemsWorld
) -> None:
    from store import ItemConflict

    item = world.items[2]
    coi = make_conflict(world.call, world.reviewer, AssignmentItem.get_by_id(item.id).proposal)
    ItemConflict.create(item=item, conflict=coi)
    AssignmentBatch.update(status=BatchStatus.CANCELLED).where(
        AssignmentBatch.id == world.sent.id
    ).execute()
    response = api_client.delete(f"{ITEMS}{item.uuid}/", headers=world.auth["manager"])
    assert response.status_code == 204 and ItemConflict.select().count() == 0
    assert CoiStatus(type(coi).get_by_id(coi.id).status) == CoiStatus.PENDING


def test_creating_an_item_directly_is_not_allowed(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.post(ITEMS, json={}, headers=world.auth["staff"])
    assert response.status_code == 405 and AssignmentItem.select().count() == 4


# --- edit -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_reviewer_corrects_the_reason_of_their_declined_item(
    api_client: TestClient, world: ItemsWorld, method: str
) -> None:
    item = declined(world)
    response = api_client.request(
        method,
        f"{ITEMS}{item.uuid}/",
        json={"decline_reason": "On leave"},
        headers=world.auth["rita"],
    )
    assert (response.status_code, response.json()["decline_reason"]) == (200, "On leave")
    assert AssignmentItem.get_by_id(item.id).decline_reason == "On leave"


def test_a_patch_without_a_reason_changes_nothing(
    api_client: TestClient, world: ItemsWorld
) -> None:
    url = f"{ITEMS}{world.items[0].uuid}/"
    response = api_client.patch(url, json={}, headers=world.auth["rita"])
    assert (response.status_code, response.json()["decline_reason"]) == (200, "")


@pytest.mark.parametrize(("who", "code"), [("rita", 400), ("manager", 403), ("stranger", 404)])
def test_only_the_reviewer_edits_and_only_a_declined_item(
    api_client: TestClient, world: ItemsWorld, who: str, code: int
) -> None:
    url = f"{ITEMS}{world.items[0].uuid}/"
    response = api_client.patch(url, json={"decline_reason": "x"}, headers=world.auth[who])
    assert response.status_code == code
    assert AssignmentItem.get_by_id(world.items[0].id).decline_reason == ""
