"""/api/assignment-items/ over HTTP on SQLite and PostgreSQL: bodies, status codes, filters,
ordering, pagination headers, permissions, authentication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from store import AssignmentBatch, AssignmentItem, Call, Review, Reviewer
from store.clock import utcnow
from store.enums import BatchStatus, CoiStatus, ItemStatus
from tasks.errors import (
    MSG_ACCEPT_NOT_PENDING,
    MSG_ACCEPTED,
    MSG_DECLINED,
    MSG_FORCE_UNBLOCK_NOT_BLOCKED,
    MSG_FORCE_UNBLOCKED,
    MSG_REASSIGN_NOT_ALLOWED,
    MSG_REASSIGNED,
)
from tasks.items.listing import MSG_ITEM_DELETE_NOT_ALLOWED, NIL_UUID
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_conflict,
    make_pool_entry,
    make_reviewer,
    make_user,
    with_token,
)

ITEMS = "/api/assignment-items/"
ITEM_KEYS = {
    "url",
    "uuid",
    "batch",
    "proposal",
    "proposal_uuid",
    "proposal_name",
    "proposal_slug",
    "status",
    "status_display",
    "affinity_score",
    "has_coi",
    "coi_count",
    "responded_at",
    "decline_reason",
    "review",
    "review_uuid",
    "reassign_count",
    "override_reason",
    "overridden_by_name",
    "overridden_at",
    "created",
}


@dataclass
class World:
    """A call with a manager; Rita's sent batch of three items (0.9, 0.5, COI-blocked without a
    score); a draft batch of another reviewer; staff; a stranger; a manager of another call."""

    call: Call
    reviewer: Reviewer
    sent: AssignmentBatch
    draft: AssignmentBatch
    items: list[AssignmentItem]
    draft_item: AssignmentItem
    auth: dict[str, dict[str, str]]


@pytest.fixture
def world(api_client: TestClient) -> World:
    call = make_call()
    rita = make_user(username="rita")
    reviewer = make_reviewer(user=rita, name="Rita")
    expires = utcnow() + timedelta(days=5)
    sent = make_assignment_batch(
        call, reviewer, status=BatchStatus.SENT, sent_at=utcnow(), expires_at=expires
    )
    items = [
        make_assignment_item(sent, affinity_score=0.9),
        make_assignment_item(sent, affinity_score=0.5),
        make_assignment_item(sent, status=ItemStatus.COI_BLOCKED, has_coi=True),
    ]
    draft = make_assignment_batch(call)
    users = {
        "manager": make_call_manager(call, full_name="Mona"),
        "rita": rita,
        "staff": make_user(is_staff=True),
        "stranger": make_user(),
        "other_manager": make_call_manager(make_call()),
    }
    auth = {name: with_token(user) for name, user in users.items()}
    return World(call, reviewer, sent, draft, items, make_assignment_item(draft), auth)


def uuids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["uuid"] for row in rows]


def ids(*items: AssignmentItem) -> list[str]:
    return [str(item.uuid) for item in items]


def item_status(item: AssignmentItem) -> ItemStatus:
    return AssignmentItem.get_by_id(item.id).status


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", [{}, {"Authorization": "Token nope"}, {"Authorization": "x"}])
def test_a_request_without_a_valid_token_is_401(
    api_client: TestClient, world: World, header: dict[str, str]
) -> None:
    response = api_client.get(ITEMS, headers=header)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_bearer_token_is_accepted_like_a_token(api_client: TestClient, world: World) -> None:
    token = world.auth["staff"]["Authorization"].removeprefix("Token ")
    response = api_client.get(ITEMS, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json()) == 4


# --- listing and visibility -------------------------------------------------------------------


def test_staff_and_the_calls_manager_see_every_item_of_the_call(
    api_client: TestClient, world: World
) -> None:
    for who in ("staff", "manager"):
        response = api_client.get(ITEMS, headers=world.auth[who])
        assert response.status_code == 200
        assert sorted(uuids(response.json())) == sorted(ids(*world.items, world.draft_item))


def test_a_reviewer_sees_only_the_items_of_their_sent_batches(
    api_client: TestClient, world: World
) -> None:
    rows = api_client.get(ITEMS, headers=world.auth["rita"]).json()
    assert sorted(uuids(rows)) == sorted(ids(*world.items))


@pytest.mark.parametrize("who", ["stranger", "other_manager"])
def test_someone_unrelated_to_the_call_sees_no_item(
    api_client: TestClient, world: World, who: str
) -> None:
    response = api_client.get(ITEMS, headers=world.auth[who])
    assert (response.json(), response.headers["X-Result-Count"]) == ([], "0")


def test_a_listed_item_has_every_field_of_the_published_model(
    api_client: TestClient, world: World
) -> None:
    [row] = api_client.get(
        ITEMS, params={"batch_uuid": str(world.draft.uuid)}, headers=world.auth["staff"]
    ).json()
    assert set(row) == ITEM_KEYS
    assert row["url"].endswith(f"/api/assignment-items/{world.draft_item.uuid}/")
    assert (row["status"], row["status_display"], row["review"]) == ("pending", "Pending", None)
    assert (row["review_uuid"], row["override_reason"], row["overridden_at"]) == (
        NIL_UUID,
        "",
        None,
    )


# --- filters ----------------------------------------------------------------------------------


def test_repeated_status_filters_mean_any_of(api_client: TestClient, world: World) -> None:
    params = {"status": ["coi_blocked", "declined"]}
    rows = api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json()
    assert uuids(rows) == ids(world.items[2])


def test_has_coi_and_min_affinity_score_filter_items(api_client: TestClient, world: World) -> None:
    staff = world.auth["staff"]
    blocked = api_client.get(ITEMS, params={"has_coi": "true"}, headers=staff).json()
    strong = api_client.get(ITEMS, params={"min_affinity_score": 0.6}, headers=staff).json()
    assert (uuids(blocked), uuids(strong)) == (ids(world.items[2]), ids(world.items[0]))


def test_batch_call_proposal_and_reviewer_filters_select_their_items(
    api_client: TestClient, world: World
) -> None:
    staff, first = world.auth["staff"], world.items[0]
    proposal_uuid = str(AssignmentItem.get_by_id(first.id).proposal.uuid)
    expectations = {
        "batch_uuid": (str(world.sent.uuid), 3),
        "call_uuid": (str(world.call.uuid), 4),
        "proposal_uuid": (proposal_uuid, 1),
        "reviewer_uuid": (str(world.reviewer.uuid), 3),
    }
    for name, (value, count) in expectations.items():
        response = api_client.get(ITEMS, params={name: value}, headers=staff)
        assert response.headers["X-Result-Count"] == str(count), name


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"batch_uuid": "not-a-uuid"}, "batch_uuid"),
        ({"proposal_uuid": "42"}, "proposal_uuid"),
        ({"status": "lost"}, "status"),
        ({"o": "name"}, "o"),
    ],
)
def test_an_invalid_filter_is_400_naming_the_field(
    api_client: TestClient, world: World, params: dict[str, str], field: str
) -> None:
    response = api_client.get(ITEMS, params=params, headers=world.auth["staff"])
    assert response.status_code == 400 and list(response.json()) == [field]


@pytest.mark.parametrize("value", ["abc", "nan", "inf"])
def test_a_min_affinity_score_that_is_not_a_finite_number_is_a_validation_error(
    api_client: TestClient, world: World, value: str
) -> None:
    response = api_client.get(
        ITEMS, params={"min_affinity_score": value}, headers=world.auth["staff"]
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == ["min_affinity_score"]


# --- ordering and pages -----------------------------------------------------------------------


def test_ordering_by_affinity_score_puts_unscored_items_last_both_ways(
    api_client: TestClient, world: World
) -> None:
    def ordered(o: str) -> list[str]:
        params = {"o": o, "batch_uuid": str(world.sent.uuid)}
        return uuids(api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json())

    first, second, unscored = world.items
    assert ordered("affinity_score") == ids(second, first, unscored)
    assert ordered("-affinity_score") == ids(first, second, unscored)


def test_comma_separated_ordering_keys_are_read_like_repeated_ones(
    api_client: TestClient, world: World
) -> None:
    params = {"o": "status,-affinity_score", "batch_uuid": str(world.sent.uuid)}
    rows = api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json()
    first, second, blocked = world.items
    assert uuids(rows) == ids(blocked, first, second)


def test_ordering_by_status_then_created(api_client: TestClient, world: World) -> None:
    params = {"o": ["-status", "created"], "batch_uuid": str(world.sent.uuid)}
    rows = api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json()
    assert [r["status"] for r in rows] == ["pending", "pending", "coi_blocked"]


def test_a_page_carries_the_total_count_and_links_to_its_neighbours(
    api_client: TestClient, world: World
) -> None:
    response = api_client.get(
        ITEMS, params={"page": 2, "page_size": 1}, headers=world.auth["staff"]
    )
    assert len(response.json()) == 1 and response.headers["X-Result-Count"] == "4"
    link = response.headers["Link"]
    assert 'rel="prev"' in link and 'rel="next"' in link and "page=4" in link


def test_head_on_the_list_answers_the_filtered_count_without_a_body(
    api_client: TestClient, world: World
) -> None:
    response = api_client.head(ITEMS, params={"status": "pending"}, headers=world.auth["staff"])
    assert (response.status_code, response.headers["X-Result-Count"]) == (200, "3")
    assert response.content == b""


# --- retrieve ---------------------------------------------------------------------------------


def test_a_reviewer_retrieves_their_own_item(api_client: TestClient, world: World) -> None:
    item = world.items[2]
    response = api_client.get(f"{ITEMS}{item.uuid}/", headers=world.auth["rita"])
    assert response.status_code == 200
    assert (response.json()["uuid"], response.json()["has_coi"]) == (str(item.uuid), True)


@pytest.mark.parametrize(
    ("who", "target"), [("rita", "draft"), ("stranger", "sent"), ("staff", "missing")]
)
def test_an_item_the_caller_may_not_see_is_404(
    api_client: TestClient, world: World, who: str, target: str
) -> None:
    uuid = {
        "draft": str(world.draft_item.uuid),
        "sent": str(world.items[0].uuid),
        "missing": "not-a-uuid",
    }[target]
    response = api_client.get(f"{ITEMS}{uuid}/", headers=world.auth[who])
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


# --- accept and decline -----------------------------------------------------------------------


def test_the_reviewer_accepts_their_item_and_gets_the_new_review(
    api_client: TestClient, world: World
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
    api_client: TestClient, world: World, who: str, action: str
) -> None:
    item = world.items[0]
    response = api_client.post(f"{ITEMS}{item.uuid}/{action}/", headers=world.auth[who])
    assert response.status_code == 403
    assert item_status(item) == ItemStatus.PENDING and Review.select().count() == 0


def test_the_reviewer_declines_with_a_reason(api_client: TestClient, world: World) -> None:
    item = world.items[1]
    response = api_client.post(
        f"{ITEMS}{item.uuid}/decline/", json={"reason": "Too busy"}, headers=world.auth["rita"]
    )
    assert response.json() == {"detail": MSG_DECLINED, "review_uuid": None}
    assert AssignmentItem.get_by_id(item.id).decline_reason == "Too busy"


def test_a_decline_without_a_body_has_an_empty_reason(api_client: TestClient, world: World) -> None:
    response = api_client.post(f"{ITEMS}{world.items[0].uuid}/decline/", headers=world.auth["rita"])
    assert response.status_code == 200
    assert item_status(world.items[0]) == ItemStatus.DECLINED


def test_accepting_an_item_that_is_not_pending_is_400_with_the_exact_message(
    api_client: TestClient, world: World
) -> None:
    response = api_client.post(f"{ITEMS}{world.items[2].uuid}/accept/", headers=world.auth["rita"])
    assert (response.status_code, response.json()) == (400, {"error": MSG_ACCEPT_NOT_PENDING})


def test_a_reason_with_a_nul_character_is_400_naming_the_field_and_nothing_changes(
    api_client: TestClient, world: World
) -> None:
    response = api_client.post(
        f"{ITEMS}{world.items[0].uuid}/decline/",
        json={"reason": "a\x00b"},
        headers=world.auth["rita"],
    )
    assert response.status_code == 400 and response.json()["error"]["fields"] == ["reason"]
    assert item_status(world.items[0]) == ItemStatus.PENDING


# --- reassign, force-unblock, suggestions -----------------------------------------------------


def declined(world: World) -> AssignmentItem:
    item = world.items[0]
    AssignmentItem.update(status=ItemStatus.DECLINED).where(AssignmentItem.id == item.id).execute()
    return item


def test_the_manager_reassigns_a_declined_item_to_another_pool_entry(
    api_client: TestClient, world: World
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
    api_client: TestClient, world: World
) -> None:
    entry = make_pool_entry(world.call, make_reviewer())
    response = api_client.post(
        f"{ITEMS}{world.items[0].uuid}/reassign/",
        json={"reviewer_pool_entry_uuid": str(entry.uuid)},
        headers=world.auth["manager"],
    )
    assert (response.status_code, response.json()) == (400, {"error": MSG_REASSIGN_NOT_ALLOWED})


def test_a_reassignment_without_a_valid_pool_entry_uuid_names_the_field(
    api_client: TestClient, world: World
) -> None:
    response = api_client.post(
        f"{ITEMS}{declined(world).uuid}/reassign/",
        json={"reviewer_pool_entry_uuid": "x"},
        headers=world.auth["manager"],
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == ["reviewer_pool_entry_uuid"]


def test_a_reviewer_reassigning_their_item_is_403(api_client: TestClient, world: World) -> None:
    entry = make_pool_entry(world.call, make_reviewer())
    response = api_client.post(
        f"{ITEMS}{declined(world).uuid}/reassign/",
        json={"reviewer_pool_entry_uuid": str(entry.uuid)},
        headers=world.auth["rita"],
    )
    assert response.status_code == 403 and item_status(world.items[0]) == ItemStatus.DECLINED


def test_force_unblock_answers_the_now_pending_item(api_client: TestClient, world: World) -> None:
    item = world.items[2]
    make_conflict(world.call, world.reviewer, AssignmentItem.get_by_id(item.id).proposal)
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
    assert body["overridden_at"] is not None and body["has_coi"] is True


@pytest.mark.parametrize(
    ("index", "reason", "expected"),
    [
        (2, "  ", {"override_reason": ["This field may not be blank."]}),
        (0, "why", {"error": MSG_FORCE_UNBLOCK_NOT_BLOCKED}),
    ],
)
def test_force_unblock_refuses_a_blank_reason_or_an_item_that_is_not_blocked(
    api_client: TestClient, world: World, index: int, reason: str, expected: dict[str, Any]
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
    api_client: TestClient, world: World
) -> None:
    entry = make_pool_entry(world.call, make_reviewer(), max_assignments=4)
    response = api_client.get(
        f"{ITEMS}{world.items[0].uuid}/suggest_alternatives/", headers=world.auth["manager"]
    )
    by_entry = {s["pool_entry_uuid"]: s for s in response.json()["suggestions"]}
    suggestion = by_entry[str(entry.uuid)]
    assert (suggestion["current_assignments"], suggestion["max_assignments"]) == (0, 4)


def test_a_reviewer_asking_for_suggestions_is_403(api_client: TestClient, world: World) -> None:
    response = api_client.get(
        f"{ITEMS}{world.items[0].uuid}/suggest_alternatives/", headers=world.auth["rita"]
    )
    assert response.status_code == 403


# --- delete -----------------------------------------------------------------------------------


def test_the_manager_deletes_a_pending_item_of_a_draft_batch(
    api_client: TestClient, world: World
) -> None:
    url = f"{ITEMS}{world.draft_item.uuid}/"
    response = api_client.delete(url, headers=world.auth["manager"])
    assert (response.status_code, response.content) == (204, b"")
    assert api_client.delete(url, headers=world.auth["manager"]).status_code == 404
    assert AssignmentBatch.get_or_none(AssignmentBatch.id == world.draft.id) is not None


def test_an_item_of_a_sent_batch_cannot_be_deleted(api_client: TestClient, world: World) -> None:
    response = api_client.delete(f"{ITEMS}{world.items[0].uuid}/", headers=world.auth["staff"])
    assert (response.status_code, response.json()) == (400, {"error": MSG_ITEM_DELETE_NOT_ALLOWED})
    assert AssignmentItem.select().count() == 4


@pytest.mark.parametrize(
    ("who", "code"), [("rita", 403), ("stranger", 404), ("other_manager", 404)]
)
def test_only_a_manager_deletes_an_item(
    api_client: TestClient, world: World, who: str, code: int
) -> None:
    response = api_client.delete(f"{ITEMS}{world.items[0].uuid}/", headers=world.auth[who])
    assert response.status_code == code and AssignmentItem.select().count() == 4


def test_a_coi_blocked_item_of_a_cancelled_batch_is_deleted_with_its_conflict_links(
    api_client: TestClient, world: World
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


def test_creating_an_item_directly_is_not_allowed(api_client: TestClient, world: World) -> None:
    response = api_client.post(ITEMS, json={}, headers=world.auth["staff"])
    assert response.status_code == 405 and AssignmentItem.select().count() == 4


# --- edit -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_reviewer_corrects_the_reason_of_their_declined_item(
    api_client: TestClient, world: World, method: str
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


def test_a_patch_without_a_reason_changes_nothing(api_client: TestClient, world: World) -> None:
    url = f"{ITEMS}{world.items[0].uuid}/"
    response = api_client.patch(url, json={}, headers=world.auth["rita"])
    assert (response.status_code, response.json()["decline_reason"]) == (200, "")


@pytest.mark.parametrize(("who", "code"), [("rita", 400), ("manager", 403), ("stranger", 404)])
def test_only_the_reviewer_edits_and_only_a_declined_item(
    api_client: TestClient, world: World, who: str, code: int
) -> None:
    url = f"{ITEMS}{world.items[0].uuid}/"
    response = api_client.patch(url, json={"decline_reason": "x"}, headers=world.auth[who])
    assert response.status_code == code
    assert AssignmentItem.get_by_id(world.items[0].id).decline_reason == ""
