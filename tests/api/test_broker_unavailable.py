"""The queued endpoints when Redis cannot be reached: 503 with Retry-After, in the error shape of
each API family (seeds/004's envelope under /v1/, DRF's detail under /api/), and the request
recorded rather than lost."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from store import AssignmentRequest
from store.enums import RequestStatus
from tests.builders import build_pool_world
from tests.factories import make_call_manager, make_user, with_token

MESSAGE = "The task queue is unavailable; try again shortly."


def test_bulk_assign_answers_503_with_the_seeds_envelope(
    api_client: TestClient, unreachable_broker: Any
) -> None:
    headers = with_token(make_user(is_staff=True))
    body = {"reviewIds": ["rev_1"], "assignmentStrategy": {"type": "specific", "assignTo": ["u"]}}
    response = api_client.post("/v1/reviews/assign", json=body, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"error": {"code": "BROKER_UNAVAILABLE", "message": MESSAGE}}
    assert [r.status for r in AssignmentRequest.select()] == [RequestStatus.QUEUED]


def test_generate_assignments_answers_503_with_a_drf_detail(
    api_client: TestClient, unreachable_broker: Any
) -> None:
    world = build_pool_world()
    path = f"/api/proposal-protected-calls/{world.call.uuid}/generate-assignments/"
    response = api_client.post(path, headers=with_token(make_call_manager(world.call)))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"detail": MESSAGE}
    assert [r.status for r in AssignmentRequest.select()] == [RequestStatus.QUEUED]
