"""Reading the seeds/000 assignment-batch API over HTTP, on SQLite and PostgreSQL: tokens on every
endpoint, the list with its filters, ordering, pagination headers and HEAD, and who lists what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from store import AssignmentBatch
from store.clock import utcnow
from store.enums import BatchSource, BatchStatus
from tests.builders import BASE, BATCHES, BatchWorld, response_uuids
from tests.factories import make_assignment_batch, make_sent, with_token

# --- authentication ---------------------------------------------------------------------------

ENDPOINTS = [
    ("get", BATCHES),
    ("head", BATCHES),
    ("post", BATCHES),
    ("get", BATCHES + "00000000-0000-0000-0000-000000000000/"),
    ("patch", BATCHES + "00000000-0000-0000-0000-000000000000/"),
    ("delete", BATCHES + "00000000-0000-0000-0000-000000000000/"),
    ("post", BATCHES + "00000000-0000-0000-0000-000000000000/send/"),
    ("get", "/api/my-assignment-batches/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Authentication credentials were not provided."),
        ("Basic dXNlcg==", "Authentication credentials were not provided."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token nope", "Invalid token."),
        ("Bearer nope", "Invalid token."),
    ],
)
def test_every_batch_endpoint_answers_drfs_401_without_a_valid_token(
    client: TestClient,
    world: BatchWorld,
    method: str,
    path: str,
    authorization: str | None,
    message: str,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.request(method, path, headers=headers)
    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Token")
    if method != "head":
        assert response.json() == {"detail": message}


def test_a_token_is_accepted_with_the_token_and_the_bearer_scheme(
    client: TestClient, world: BatchWorld
) -> None:
    token = with_token(world.manager)["Authorization"].split()[1]
    for scheme in ("Token", "Bearer", "bearer"):
        response = client.get(BATCHES, headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, scheme


# --- the list ---------------------------------------------------------------------------------


def test_the_list_is_an_array_of_absolute_urls_with_count_and_link_headers(
    client: TestClient, world: BatchWorld
) -> None:
    for _ in range(4):
        make_assignment_batch(world.call)
    response = client.get(
        BATCHES, params={"page_size": 2, "page": 2}, headers=with_token(world.manager)
    )
    assert response.status_code == 200
    assert response.headers["X-Result-Count"] == "5"
    link = response.headers["Link"]
    assert 'rel="first"' in link and 'rel="prev"' in link and 'rel="next"' in link
    assert "page=3" in link and 'rel="last"' in link
    rows = response.json()
    assert len(rows) == 2 and "items" not in rows[0]
    assert rows[0]["url"] == f"{BASE}{BATCHES}{rows[0]['uuid']}/"
    assert rows[0]["call"].startswith(f"{BASE}/api/proposal-protected-calls/")


def test_head_answers_the_count_and_links_with_an_empty_body(
    client: TestClient, world: BatchWorld
) -> None:
    make_assignment_batch(world.call, status=BatchStatus.CANCELLED)
    headers = with_token(world.manager)
    response = client.head(BATCHES, params={"status": "draft"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Result-Count"] == "1"
    assert 'rel="last"' in response.headers["Link"]
    assert response.content == b""


def test_a_repeated_status_or_source_means_any_of_them(
    client: TestClient, world: BatchWorld
) -> None:
    cancelled = make_assignment_batch(world.call, status=BatchStatus.CANCELLED)
    make_assignment_batch(world.call, status=BatchStatus.RESPONDED, source=BatchSource.MANUAL)
    headers = with_token(world.manager)
    response = client.get(BATCHES + "?status=draft&status=cancelled", headers=headers)
    assert sorted(response_uuids(response)) == sorted([str(world.batch.uuid), str(cancelled.uuid)])
    response = client.get(BATCHES + "?source=manual&source=algorithm", headers=headers)
    assert response.headers["X-Result-Count"] == "3"
    paged = client.get(BATCHES + "?status=draft&status=cancelled&page_size=1", headers=headers)
    next_link = paged.headers["Link"].split(", ")[-1]
    assert "status=draft&status=cancelled" in next_link and "page=2" in next_link


def test_filters_select_by_call_pool_entry_reviewer_and_sent_range(
    client: TestClient, world: BatchWorld
) -> None:
    other = make_assignment_batch(world.call)
    make_sent(world.batch, days_ago=5)
    headers = with_token(world.staff)
    entry = world.fresh().reviewer_pool_entry
    expected = {
        "call_uuid": (str(world.call.uuid), 2),
        "reviewer_pool_entry_uuid": (str(entry.uuid), 1),
        "reviewer_uuid": (str(world.reviewer.uuid), 1),
    }
    for name, (value, count) in expected.items():
        found = response_uuids(client.get(BATCHES, params={name: value}, headers=headers))
        assert len(found) == count and str(world.batch.uuid) in found, name
    after = (utcnow() - timedelta(days=6)).isoformat() + "Z"
    before = (utcnow() - timedelta(days=4)).isoformat() + "Z"
    response = client.get(
        BATCHES, params={"sent_after": after, "sent_before": before}, headers=headers
    )
    assert response_uuids(response) == [str(world.batch.uuid)]
    assert str(other.uuid) not in response_uuids(
        client.get(BATCHES + "?status=sent", headers=headers)
    )


def test_o_orders_the_list_by_repeated_keys(client: TestClient, world: BatchWorld) -> None:
    newer = make_assignment_batch(world.call)
    make_sent(world.batch, days_ago=3)
    make_sent(newer, days_ago=1)
    headers = with_token(world.manager)
    ascending = client.get(BATCHES + "?o=sent_at&o=-created", headers=headers)
    descending = client.get(BATCHES + "?o=-sent_at", headers=headers)
    assert response_uuids(ascending) == [str(world.batch.uuid), str(newer.uuid)]
    assert response_uuids(descending) == [str(newer.uuid), str(world.batch.uuid)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("source=nope", "source"),
        ("o=bogus", "o"),
        ("reviewer_pool_entry_uuid=not-a-uuid", "reviewer_pool_entry_uuid"),
    ],
)
def test_a_bad_filter_value_is_400_naming_the_field(
    client: TestClient, world: BatchWorld, query: str, field: str
) -> None:
    response = client.get(f"{BATCHES}?{query}", headers=with_token(world.manager))
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sent_after=yesterday", "sent_after"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("sent_after=0001-01-01T00:00:00%2B05:00", "sent_after"),
        ("sent_before=9999-12-31T23:00:00-05:00", "sent_before"),
    ],
)
def test_a_malformed_query_parameter_is_a_drf_field_error_naming_it(
    client: TestClient, world: BatchWorld, query: str, field: str
) -> None:
    response = client.get(f"{BATCHES}?{query}", headers=with_token(world.manager))
    assert response.status_code == 400
    assert sorted(response.json()) == [field]
    assert all(isinstance(m, str) for m in response.json()[field])


@pytest.mark.parametrize("path", [BATCHES, "/api/assignment-items/", "/api/my-assignment-batches/"])
def test_a_page_past_the_end_is_404_and_a_page_size_above_the_maximum_is_clamped(
    client: TestClient, world: BatchWorld, path: str
) -> None:
    headers = with_token(world.staff)
    empty_first = client.get(path, params={"page": 1}, headers=headers)
    assert empty_first.status_code == 200
    past = client.get(path, params={"page": 2}, headers=headers)
    assert (past.status_code, past.json()) == (404, {"detail": "Invalid page."})
    big = client.get(path, params={"page_size": 100_000}, headers=headers)
    assert big.status_code == 200 and "page_size=300" in big.headers["Link"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (BATCHES, "call_uuid"),
        (BATCHES, "reviewer_pool_entry_uuid"),
        (BATCHES, "reviewer_uuid"),
        ("/api/assignment-items/", "batch_uuid"),
        ("/api/assignment-items/", "call_uuid"),
        ("/api/assignment-items/", "proposal_uuid"),
        ("/api/assignment-items/", "reviewer_uuid"),
    ],
)
@pytest.mark.parametrize("value", ["not-a-uuid", "\x00", "call_1"])
def test_every_uuid_filter_of_every_list_refuses_a_non_uuid_alike(
    client: TestClient, world: BatchWorld, path: str, name: str, value: str
) -> None:
    response = client.get(path, params={name: value}, headers=with_token(world.staff))
    assert (response.status_code, response.json()) == (400, {name: ["Enter a valid UUID."]})
    empty = client.get(path, params={name: ""}, headers=with_token(world.staff))
    assert empty.status_code == 200 and empty.json() != []  # an empty filter filters nothing


@pytest.mark.parametrize("status", list(BatchStatus))
def test_a_reviewer_lists_only_their_own_sent_responded_or_expired_batches(
    client: TestClient, world: BatchWorld, status: BatchStatus
) -> None:
    AssignmentBatch.update(status=status).execute()
    make_assignment_batch(world.call, status=BatchStatus.SENT)  # someone else's
    response = client.get(BATCHES, headers=with_token(world.reviewer_user))
    visible = status in (BatchStatus.SENT, BatchStatus.RESPONDED, BatchStatus.EXPIRED)
    assert response_uuids(response) == ([str(world.batch.uuid)] if visible else [])


def test_a_manager_of_another_call_and_a_stranger_list_nothing(
    client: TestClient, world: BatchWorld
) -> None:
    for user in (world.other_manager, world.stranger):
        response = client.get(BATCHES, headers=with_token(user))
        assert (response.json(), response.headers["X-Result-Count"]) == ([], "0")
