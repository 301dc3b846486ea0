"""Idempotency-Key (IETF httpapi idempotency-key draft) on both queued endpoints, on SQLite and
PostgreSQL: the same key and body answer the first result; another body, another user or another
kind of request is 422 IDEMPOTENCY_KEY_MISMATCH in the family's shape, and nothing is recorded,
changed or enqueued (so a refused request cannot fail the first one)."""

from __future__ import annotations

from typing import Any

from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient

from store import AssignmentRequest
from store.enums import RequestStatus
from tests.builders import Desk, bearer, round_robin
from workers.redis_keys import ASSIGNMENT_QUEUE

ASSIGN = "/v1/reviews/assign"
MISMATCH = (
    "This Idempotency-Key was already used with another request body, "
    "by another user or for another kind of request."
)
ASYNC = {"Prefer": "respond-async"}


def generate_path(desk: Desk) -> str:
    return f"/api/proposal-protected-calls/{desk.call.uuid}/generate-assignments/"


def snapshot() -> list[tuple[Any, ...]]:
    return [
        (r.uuid, r.kind, r.status, r.requested_by_id, r.payload, r.attempts)
        for r in AssignmentRequest.select().order_by(AssignmentRequest.id)
    ]


def test_the_same_key_and_body_answer_the_first_result(
    api_client: TestClient, desk: Desk, inline_actors: None
) -> None:
    headers = {**bearer(desk.manager), "Idempotency-Key": "assign-1"}
    first = api_client.post(ASSIGN, json=round_robin("rev_1"), headers=headers)
    again = api_client.post(ASSIGN, json=round_robin("rev_1"), headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["assigned"] == 1
    assert AssignmentRequest.select().count() == 1


def test_another_body_user_or_kind_is_422_and_nothing_is_enqueued(
    api_client: TestClient, desk: Desk, stub_broker: StubBroker
) -> None:
    key = {"Idempotency-Key": "k-1", **ASYNC}
    first = api_client.post(
        ASSIGN, json=round_robin("rev_1"), headers={**bearer(desk.manager), **key}
    )
    assert first.status_code == 202
    queue = stub_broker.queues[ASSIGNMENT_QUEUE]
    before, queued = snapshot(), queue.qsize()
    assert queued == 1

    other_body = api_client.post(
        ASSIGN, json=round_robin("rev_2"), headers={**bearer(desk.manager), **key}
    )
    other_user = api_client.post(
        ASSIGN, json=round_robin("rev_1"), headers={**bearer(desk.staff), **key}
    )
    for refused in (other_body, other_user):
        assert refused.status_code == 422
        assert refused.json() == {
            "error": {"code": "IDEMPOTENCY_KEY_MISMATCH", "message": MISMATCH}
        }
    other_kind = api_client.post(generate_path(desk), headers={**bearer(desk.manager), **key})
    assert other_kind.status_code == 422
    assert other_kind.json() == {"detail": MISMATCH, "code": "IDEMPOTENCY_KEY_MISMATCH"}

    assert snapshot() == before
    assert queue.qsize() == queued
    assert AssignmentRequest.get().status == RequestStatus.QUEUED


def test_a_refused_reuse_does_not_fail_the_first_request(
    api_client: TestClient, desk: Desk, inline_actors: None
) -> None:
    """The first request finishes with its own result after another user tried its key."""
    key = {"Idempotency-Key": "mine"}
    body = round_robin("rev_1")
    first = api_client.post(ASSIGN, json=body, headers={**bearer(desk.manager), **key})
    assert first.status_code == 200 and first.json()["assigned"] == 1
    other = api_client.post(ASSIGN, json=body, headers={**bearer(desk.staff), **key})
    assert other.status_code == 422 and "assigned" not in other.text
    request = AssignmentRequest.get()
    assert (request.status, request.result) == (RequestStatus.SUCCEEDED, first.json())
    again = api_client.post(ASSIGN, json=body, headers={**bearer(desk.manager), **key})
    assert again.json() == first.json()


def test_generate_with_the_same_key_answers_the_first_result(
    api_client: TestClient, desk: Desk, inline_actors: None
) -> None:
    headers = {**bearer(desk.manager), "Idempotency-Key": "gen-1"}
    first = api_client.post(generate_path(desk), json={}, headers=headers)
    again = api_client.post(generate_path(desk), json={}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    changed = api_client.post(
        generate_path(desk), json={"reviewers_per_proposal": 1}, headers=headers
    )
    assert changed.status_code == 422
    assert AssignmentRequest.select().count() == 1
