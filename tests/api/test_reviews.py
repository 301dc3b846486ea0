"""seeds/004 `POST /v1/reviews/assign` and `GET /v1/assignment-requests/{id}` over HTTP, on
SQLite and PostgreSQL: through real worker processes where the queue is the point, with the
actor run inline where it is not."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from store import AssignmentRequest, Review
from store.enums import RequestStatus, ReviewState
from tests.builders import BASE, Desk, bearer, poll, round_robin

ASSIGN = "/v1/reviews/assign"
REQUESTS = "/v1/assignment-requests/"


# --- through real workers ---------------------------------------------------------------------


@pytest.mark.e2e
def test_assign_waits_for_a_worker_and_answers_the_seeds_004_response(
    api_client: TestClient, desk: Desk, real_workers: Any
) -> None:
    response = api_client.post(
        ASSIGN, json=round_robin("rev_1", "rev_2", "rev_3"), headers=bearer(desk.manager)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["assigned"], body["failed"]) == (3, 0)
    assert [a["assignedTo"] for a in body["assignments"]] == ["user_001", "user_002", "user_003"]
    assert {a["status"] for a in body["assignments"]} == {"success"}
    assert [s["userId"] for s in body["summary"]] == ["user_001", "user_002", "user_003"]
    assert all(s["assignedCount"] == 1 and s["totalWorkload"] == 1 for s in body["summary"])
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 3


@pytest.mark.e2e
def test_respond_async_answers_202_with_a_location_that_reads_the_result_back(
    api_client: TestClient, desk: Desk, real_workers: Any
) -> None:
    headers = {**bearer(desk.manager), "Prefer": "respond-async"}
    response = api_client.post(ASSIGN, json=round_robin("rev_1"), headers=headers)
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location == f"{BASE}{REQUESTS}{response.json()['id']}"
    assert response.json()["kind"] == "assign_reviews"
    path = location.removeprefix(BASE)
    body = poll(api_client, path, bearer(desk.manager))
    assert body["status"] == "succeeded" and body["http_status"] == 200
    assert body["result"]["assigned"] == 1


# --- without a worker, or with the actor inline -----------------------------------------------


def test_a_wait_past_its_limit_answers_202_instead_of_hanging(
    api_client: TestClient, desk: Desk, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWQ_API_WAIT_SECONDS", "0.2")
    started = time.monotonic()
    response = api_client.post(ASSIGN, json=round_robin("rev_1"), headers=bearer(desk.manager))
    assert response.status_code == 202 and time.monotonic() - started < 5
    assert response.json()["status"] == "queued"
    assert response.headers["Location"].endswith(f"{REQUESTS}{response.json()['id']}")


def test_prefer_wait_shortens_the_wait(
    api_client: TestClient, desk: Desk, redis_client: Any
) -> None:
    headers = {**bearer(desk.manager), "Prefer": "wait=0"}
    response = api_client.post(ASSIGN, json=round_robin("rev_1"), headers=headers)
    assert response.status_code == 202


def test_an_unknown_strategy_is_400_and_queues_nothing(api_client: TestClient, desk: Desk) -> None:
    body = {"reviewIds": ["rev_1"], "assignmentStrategy": {"type": "nope"}}
    response = api_client.post(ASSIGN, json=body, headers=bearer(desk.manager))
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "INVALID_STRATEGY", "message": "Unknown assignment strategy type"}
    }
    assert AssignmentRequest.select().count() == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["assignmentStrategy", "reviewIds"]),
        ({"reviewIds": [], "assignmentStrategy": {"type": "specific"}}, ["assignTo", "reviewIds"]),
        (
            {
                "reviewIds": ["rev_1"],
                "assignmentStrategy": {"type": "round_robin", "pool": ["a\x00"]},
            },
            ["pool.0"],
        ),
        ([1], ["body"]),
        ({**round_robin("rev_1"), "deadline": "9999-12-31T23:00:00-05:00"}, ["deadline"]),
        ({**round_robin("rev_1"), "priority": "asap"}, ["priority"]),
    ],
)
def test_an_invalid_body_is_400_naming_its_fields(
    api_client: TestClient, desk: Desk, body: Any, fields: list[str]
) -> None:
    response = api_client.post(ASSIGN, json=body, headers=bearer(desk.manager))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert all(any(f.endswith(name) for f in error["fields"]) for name in fields), error
    assert AssignmentRequest.select().count() == 0


def test_unknown_review_ids_are_404_with_the_invalid_ids(
    api_client: TestClient, desk: Desk, inline_actors: None
) -> None:
    response = api_client.post(
        ASSIGN, json=round_robin("rev_1", "rev_999"), headers=bearer(desk.staff)
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "REVIEWS_NOT_FOUND",
            "message": "Some review IDs were not found",
            "invalidIds": ["rev_999"],
        }
    }


def test_a_manager_may_not_assign_the_reviews_of_another_call(
    api_client: TestClient, desk: Desk
) -> None:
    response = api_client.post(
        ASSIGN, json=round_robin("rev_1", "rev_2"), headers=bearer(desk.other_manager)
    )
    assert response.status_code == 404
    assert response.json()["error"]["invalidIds"] == ["rev_1", "rev_2"]
    assert AssignmentRequest.select().count() == 0
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 0


def test_a_request_is_read_back_by_whoever_made_it_and_staff_only(
    api_client: TestClient, desk: Desk, inline_actors: None
) -> None:
    headers = {**bearer(desk.manager), "Prefer": "respond-async"}
    made = api_client.post(ASSIGN, json=round_robin("rev_1"), headers=headers).json()
    path = f"{REQUESTS}{made['id']}"
    mine = api_client.get(path, headers=bearer(desk.manager))
    assert mine.status_code == 200
    assert (mine.json()["status"], mine.json()["result"]["assigned"]) == ("succeeded", 1)
    assert api_client.get(path, headers=bearer(desk.staff)).status_code == 200
    assert api_client.get(path, headers=bearer(desk.other_manager)).status_code == 404


@pytest.mark.parametrize("request_id", ["00000000-0000-0000-0000-000000000000", "nope"])
def test_an_unknown_request_is_404(api_client: TestClient, desk: Desk, request_id: str) -> None:
    response = api_client.get(f"{REQUESTS}{request_id}", headers=bearer(desk.staff))
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "NOT_FOUND", "message": "No assignment request found."}
    }


@pytest.mark.parametrize(("method", "path"), [("post", ASSIGN), ("get", REQUESTS + "x")])
def test_both_endpoints_answer_401_without_a_valid_token(
    api_client: TestClient, desk: Desk, method: str, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = api_client.request(method, path, json=round_robin("rev_1"), headers=headers)
        assert response.status_code == 401
    assert AssignmentRequest.select().count() == 0


def test_failed_status_is_kept_in_the_request(
    api_client: TestClient, desk: Desk, inline_actors: None
) -> None:
    Review.update(state=ReviewState.SUBMITTED).where(Review.external_id == "rev_1").execute()
    response = api_client.post(ASSIGN, json=round_robin("rev_1"), headers=bearer(desk.manager))
    assert response.status_code == 200
    assert response.json()["failed"] == 1 and "error" in response.json()["assignments"][0]
    assert AssignmentRequest.get().status == RequestStatus.SUCCEEDED
