"""Reading /api/assignment-items/ over HTTP on SQLite and PostgreSQL: authentication, who sees
which item, every field, filters, ordering, pagination headers, HEAD and retrieve."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.serializers.items import NIL_UUID
from store import AssignmentItem
from tests.builders import ITEMS, ItemsWorld, ids, uuids

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


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", [{}, {"Authorization": "Token nope"}, {"Authorization": "x"}])
def test_a_request_without_a_valid_token_is_401(
    api_client: TestClient, world: ItemsWorld, header: dict[str, str]
) -> None:
    response = api_client.get(ITEMS, headers=header)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_bearer_token_is_accepted_like_a_token(api_client: TestClient, world: ItemsWorld) -> None:
    token = world.auth["staff"]["Authorization"].removeprefix("Token ")
    response = api_client.get(ITEMS, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json()) == 4


# --- listing and visibility -------------------------------------------------------------------


def test_staff_and_the_calls_manager_see_every_item_of_the_call(
    api_client: TestClient, world: ItemsWorld
) -> None:
    for who in ("staff", "manager"):
        response = api_client.get(ITEMS, headers=world.auth[who])
        assert response.status_code == 200
        assert sorted(uuids(response.json())) == sorted(ids(*world.items, world.draft_item))


def test_a_reviewer_sees_only_the_items_of_their_sent_batches(
    api_client: TestClient, world: ItemsWorld
) -> None:
    rows = api_client.get(ITEMS, headers=world.auth["rita"]).json()
    assert sorted(uuids(rows)) == sorted(ids(*world.items))


@pytest.mark.parametrize("who", ["stranger", "other_manager"])
def test_someone_unrelated_to_the_call_sees_no_item(
    api_client: TestClient, world: ItemsWorld, who: str
) -> None:
    response = api_client.get(ITEMS, headers=world.auth[who])
    assert (response.json(), response.headers["X-Result-Count"]) == ([], "0")


def test_a_listed_item_has_every_field_of_the_published_model(
    api_client: TestClient, world: ItemsWorld
) -> None:
    [row] = api_client.get(
        ITEMS, params={"batch_uuid": str(world.draft.uuid)}, headers=world.auth["staff"]
    ).json()
    assert set(row) == ITEM_KEYS
    assert row["url"].endswith(f"/api/assignment-items/{world.draft_item.uuid}/")
    assert (row["status"], row["status_display"], row["review"]) == (
        "pending",
        "Awaiting response",
        None,
    )
    assert (row["review_uuid"], row["override_reason"], row["overridden_at"]) == (
        NIL_UUID,
        "",
        None,
    )


# --- filters ----------------------------------------------------------------------------------


def test_repeated_status_filters_mean_any_of(api_client: TestClient, world: ItemsWorld) -> None:
    params = {"status": ["coi_blocked", "declined"]}
    rows = api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json()
    assert uuids(rows) == ids(world.items[2])


def test_has_coi_and_min_affinity_score_filter_items(
    api_client: TestClient, world: ItemsWorld
) -> None:
    staff = world.auth["staff"]
    blocked = api_client.get(ITEMS, params={"has_coi": "true"}, headers=staff).json()
    strong = api_client.get(ITEMS, params={"min_affinity_score": 0.6}, headers=staff).json()
    assert (uuids(blocked), uuids(strong)) == (ids(world.items[2]), ids(world.items[0]))


def test_batch_call_proposal_and_reviewer_filters_select_their_items(
    api_client: TestClient, world: ItemsWorld
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
    api_client: TestClient, world: ItemsWorld, params: dict[str, str], field: str
) -> None:
    response = api_client.get(ITEMS, params=params, headers=world.auth["staff"])
    assert response.status_code == 400 and list(response.json()) == [field]


@pytest.mark.parametrize("value", ["abc", "nan", "inf"])
def test_a_min_affinity_score_that_is_not_a_finite_number_is_a_validation_error(
    api_client: TestClient, world: ItemsWorld, value: str
) -> None:
    response = api_client.get(
        ITEMS, params={"min_affinity_score": value}, headers=world.auth["staff"]
    )
    assert response.status_code == 400
    assert sorted(response.json()) == ["min_affinity_score"]


# --- ordering and pages -----------------------------------------------------------------------


def test_unscored_items_sort_last_ascending_and_first_descending_as_on_postgresql(
    api_client: TestClient, world: ItemsWorld
) -> None:
    def ordered(o: str) -> list[str]:
        params = {"o": o, "batch_uuid": str(world.sent.uuid)}
        return uuids(api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json())

    first, second, unscored = world.items
    assert ordered("affinity_score") == ids(second, first, unscored)
    assert ordered("-affinity_score") == ids(unscored, first, second)


def test_comma_separated_ordering_keys_are_read_like_repeated_ones(
    api_client: TestClient, world: ItemsWorld
) -> None:
    params = {"o": "status,-affinity_score", "batch_uuid": str(world.sent.uuid)}
    rows = api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json()
    first, second, blocked = world.items
    assert uuids(rows) == ids(blocked, first, second)


def test_ordering_by_status_then_created(api_client: TestClient, world: ItemsWorld) -> None:
    params = {"o": ["-status", "created"], "batch_uuid": str(world.sent.uuid)}
    rows = api_client.get(ITEMS, params=params, headers=world.auth["staff"]).json()
    assert [r["status"] for r in rows] == ["pending", "pending", "coi_blocked"]


def test_a_page_carries_the_total_count_and_links_to_its_neighbours(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.get(
        ITEMS, params={"page": 2, "page_size": 1}, headers=world.auth["staff"]
    )
    assert len(response.json()) == 1 and response.headers["X-Result-Count"] == "4"
    link = response.headers["Link"]
    assert 'rel="prev"' in link and 'rel="next"' in link and "page=4" in link


def test_head_on_the_list_answers_the_filtered_count_without_a_body(
    api_client: TestClient, world: ItemsWorld
) -> None:
    response = api_client.head(ITEMS, params={"status": "pending"}, headers=world.auth["staff"])
    assert (response.status_code, response.headers["X-Result-Count"]) == (200, "3")
    assert response.content == b""


# --- retrieve ---------------------------------------------------------------------------------


def test_a_reviewer_retrieves_their_own_item(api_client: TestClient, world: ItemsWorld) -> None:
    item = world.items[2]
    response = api_client.get(f"{ITEMS}{item.uuid}/", headers=world.auth["rita"])
    assert response.status_code == 200
    assert (response.json()["uuid"], response.json()["has_coi"]) == (str(item.uuid), True)


@pytest.mark.parametrize(
    ("who", "target"), [("rita", "draft"), ("stranger", "sent"), ("staff", "missing")]
)
def test_an_item_the_caller_may_not_see_is_404(
    api_client: TestClient, world: ItemsWorld, who: str, target: str
) -> None:
    uuid = {
        "draft": str(world.draft_item.uuid),
        "sent": str(world.items[0].uuid),
        "missing": "not-a-uuid",
    }[target]
    response = api_client.get(f"{ITEMS}{uuid}/", headers=world.auth[who])
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
