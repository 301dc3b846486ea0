"""The call-level actions over HTTP, on SQLite and PostgreSQL: generate-assignments (queued),
create-manual-assignment and send-all-assignments, with their permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient
from peewee import Database

from store import AssignmentBatch, AssignmentItem, AssignmentRequest, User
from store.enums import BatchStatus
from tasks.errors import MSG_OVER_WORKLOAD_SUFFIX, MSG_POOL_ENTRY_NOT_ELIGIBLE
from tests.builders import BASE, PoolWorld, build_pool_world, poll
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_pool_entry,
    make_reviewer,
    make_user,
    with_token,
)

ANSWER = {
    "batches_created": 3,
    "items_created": 6,
    "proposals_processed": 3,
    "skipped_proposals": [],
}


@dataclass
class Actors:
    world: PoolWorld
    manager: User
    pool_reviewer: User
    other_manager: User

    def path(self, action: str) -> str:
        return f"/api/proposal-protected-calls/{self.world.call.uuid}/{action}/"


@pytest.fixture
def actors(db: Database, testserver_url: str) -> Actors:
    world = build_pool_world()
    pool_reviewer = make_user()
    reviewer = make_reviewer(user=pool_reviewer)
    make_pool_entry(world.call, reviewer, max_assignments=0)
    return Actors(
        world, make_call_manager(world.call), pool_reviewer, make_call_manager(make_call())
    )


def batches_of(actors: Actors, status: BatchStatus = BatchStatus.DRAFT) -> int:
    query = AssignmentBatch.select().where(
        AssignmentBatch.call == actors.world.call.id, AssignmentBatch.status == status
    )
    return int(query.count())


# --- generate-assignments ---------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.usefixtures("real_workers")
def test_generate_waits_for_a_worker_and_answers_its_counts(
    api_client: TestClient, actors: Actors
) -> None:
    path = actors.path("generate-assignments")
    response = api_client.post(path, json={}, headers=with_token(actors.manager))
    assert (response.status_code, response.json()) == (200, ANSWER)
    assert batches_of(actors) == 3


@pytest.mark.e2e
@pytest.mark.usefixtures("real_workers")
def test_generate_with_respond_async_answers_202_and_the_worker_finishes_it(
    api_client: TestClient, actors: Actors
) -> None:
    headers = {**with_token(actors.manager), "Prefer": "respond-async"}
    response = api_client.post(actors.path("generate-assignments"), headers=headers)
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location.startswith(f"{BASE}/v1/assignment-requests/")
    body = poll(api_client, location.removeprefix(BASE), with_token(actors.manager))
    assert (body["kind"], body["status"], body["result"]) == (
        "generate_assignments",
        "succeeded",
        ANSWER,
    )


@pytest.mark.usefixtures("inline_actors")
def test_generate_answers_the_use_cases_error_status(
    api_client: TestClient, actors: Actors
) -> None:
    path = actors.path("generate-assignments")
    response = api_client.post(
        path, json={"algorithm": "magic"}, headers=with_token(actors.manager)
    )
    assert response.status_code == 400
    assert sorted(response.json()) == ["algorithm"]
    assert batches_of(actors) == 0


@pytest.mark.usefixtures("inline_actors")
def test_generate_runs_only_the_named_proposals(api_client: TestClient, actors: Actors) -> None:
    chosen = str(actors.world.proposals[0].uuid)
    body = {"proposal_uuids": [chosen], "reviewers_per_proposal": 1}
    response = api_client.post(
        actors.path("generate-assignments"), json=body, headers=with_token(actors.manager)
    )
    assert response.status_code == 200
    assert (response.json()["items_created"], response.json()["proposals_processed"]) == (1, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reviewers_per_proposal": 0}, "reviewers_per_proposal"),
        ({"reviewers_per_proposal": 21}, "reviewers_per_proposal"),  # Waldur's max is 20
        ({"reviewers_per_proposal": "many"}, "reviewers_per_proposal"),
        ({"proposal_uuids": "p1"}, "proposal_uuids"),
        ({"algorithm": "\x00"}, "algorithm"),
    ],
)
def test_a_malformed_generate_body_is_400_before_anything_is_queued(
    api_client: TestClient, actors: Actors, body: dict[str, Any], field: str
) -> None:
    response = api_client.post(
        actors.path("generate-assignments"), json=body, headers=with_token(actors.manager)
    )
    assert response.status_code == 400
    assert sorted(response.json()) == [field]
    assert AssignmentRequest.select().count() == 0


@pytest.mark.parametrize(
    "action", ["generate-assignments", "create-manual-assignment", "send-all-assignments"]
)
def test_a_pool_reviewer_gets_403_another_manager_404_and_nothing_happens(
    api_client: TestClient, actors: Actors, action: str
) -> None:
    body = {
        "reviewer_pool_entry_uuid": str(actors.world.entries[0].uuid),
        "proposal_uuids": [str(actors.world.proposals[0].uuid)],
    }
    reviewer = api_client.post(
        actors.path(action), json=body, headers=with_token(actors.pool_reviewer)
    )
    assert (reviewer.status_code, reviewer.json()) == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )
    other = api_client.post(
        actors.path(action), json=body, headers=with_token(actors.other_manager)
    )
    assert (other.status_code, other.json()) == (404, {"detail": "Not found."})
    assert api_client.post(actors.path(action), json=body).status_code == 401
    assert (AssignmentRequest.select().count(), AssignmentBatch.select().count()) == (0, 0)


def test_an_unknown_call_is_404(api_client: TestClient, actors: Actors) -> None:
    path = "/api/proposal-protected-calls/nope/send-all-assignments/"
    response = api_client.post(path, headers=with_token(make_user(is_staff=True)))
    assert response.status_code == 404


# --- create-manual-assignment -----------------------------------------------------------------


def manual(actors: Actors, entry: int = 0, proposals: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "reviewer_pool_entry_uuid": str(actors.world.entries[entry].uuid),
        "proposal_uuids": [str(p.uuid) for p in actors.world.proposals[:proposals]],
        **fields,
    }


def test_manual_assignment_puts_proposals_in_a_manual_draft(
    api_client: TestClient, actors: Actors
) -> None:
    body = manual(actors, proposals=2, manager_notes="Your field")
    response = api_client.post(
        actors.path("create-manual-assignment"), json=body, headers=with_token(actors.manager)
    )
    assert response.status_code == 200
    answer = response.json()
    assert (answer["items_created"], answer["skipped_proposals"]) == (2, [])
    batch = AssignmentBatch.get(AssignmentBatch.uuid == answer["batch_uuid"])
    assert (batch.status, batch.source.value, batch.manager_notes) == (
        BatchStatus.DRAFT,
        "manual",
        "Your field",
    )
    again = api_client.post(
        actors.path("create-manual-assignment"), json=body, headers=with_token(actors.manager)
    )
    assert again.json()["items_created"] == 0
    assert {s["reason"] for s in again.json()["skipped_proposals"]} == {
        "Proposal is already in this batch."
    }


def test_manual_assignment_above_the_limit_needs_the_override(
    api_client: TestClient, actors: Actors
) -> None:
    headers = with_token(actors.manager)
    body = manual(actors, proposals=3)  # max_assignments is 2
    refused = api_client.post(actors.path("create-manual-assignment"), json=body, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"].endswith(MSG_OVER_WORKLOAD_SUFFIX)
    assert AssignmentItem.select().count() == 0
    body["override_workload_limit"] = True
    forced = api_client.post(actors.path("create-manual-assignment"), json=body, headers=headers)
    assert (forced.status_code, forced.json()["items_created"]) == (200, 3)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["proposal_uuids", "reviewer_pool_entry_uuid"]),
        ({"reviewer_pool_entry_uuid": "x", "proposal_uuids": []}, ["proposal_uuids"]),
        (
            {
                "reviewer_pool_entry_uuid": "x",
                "proposal_uuids": ["p"],
                "override_workload_limit": "?",
            },
            ["override_workload_limit"],
        ),
    ],
)
def test_a_malformed_manual_body_is_400_naming_its_fields(
    api_client: TestClient, actors: Actors, body: dict[str, Any], fields: list[str]
) -> None:
    response = api_client.post(
        actors.path("create-manual-assignment"), json=body, headers=with_token(actors.manager)
    )
    assert (response.status_code, sorted(response.json())) == (400, fields)


def test_manual_assignment_to_an_unknown_pool_entry_is_refused(
    api_client: TestClient, actors: Actors
) -> None:
    body = {**manual(actors), "reviewer_pool_entry_uuid": "00000000-0000-0000-0000-000000000000"}
    response = api_client.post(
        actors.path("create-manual-assignment"), json=body, headers=with_token(actors.manager)
    )
    assert (response.status_code, response.json()) == (400, {"error": MSG_POOL_ENTRY_NOT_ELIGIBLE})


# --- send-all-assignments ---------------------------------------------------------------------


def test_send_all_sends_the_drafts_with_pending_items_and_reports_the_rest(
    api_client: TestClient,
    actors: Actors,
    stub_broker: StubBroker,
) -> None:
    call, reviewers = actors.world.call, actors.world.reviewers
    ready = make_assignment_batch(call, reviewers[0])
    make_assignment_item(ready)
    empty = make_assignment_batch(call, reviewers[1])
    response = api_client.post(
        actors.path("send-all-assignments"), headers=with_token(actors.manager)
    )
    assert response.status_code == 200
    assert response.json() == {"batches_sent": 1, "skipped": 1}  # Waldur's two integers
    assert AssignmentBatch.get_by_id(empty.id).status == BatchStatus.DRAFT
    assert AssignmentBatch.get_by_id(ready.id).status == BatchStatus.SENT
    assert sum(q.qsize() for q in stub_broker.queues.values()) == 1  # the invitation


def test_send_all_can_be_limited_to_named_batches(
    api_client: TestClient,
    actors: Actors,
    stub_broker: StubBroker,
) -> None:
    call, reviewers = actors.world.call, actors.world.reviewers
    first, second = (make_assignment_batch(call, r) for r in reviewers[:2])
    for batch in (first, second):
        make_assignment_item(batch)
    body = {"batch_uuids": [str(first.uuid), "nope"]}
    response = api_client.post(
        actors.path("send-all-assignments"), json=body, headers=with_token(actors.manager)
    )
    assert response.json() == {"batches_sent": 1, "skipped": 1}
    assert AssignmentBatch.get_by_id(second.id).status == BatchStatus.DRAFT
    bad = api_client.post(
        actors.path("send-all-assignments"),
        json={"batch_uuids": 5},
        headers=with_token(actors.manager),
    )
    assert (bad.status_code, sorted(bad.json())) == (400, ["batch_uuids"])
