"""One assignment batch over the seeds/000 API, on SQLite and PostgreSQL: retrieve, create, update,
delete, cancel, extend-deadline and send, with their status codes, bodies and permissions, and the
OpenAPI document of every batch, call and review operation."""

from __future__ import annotations

import pytest
from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient

from store import AssignmentBatch, AssignmentItem, Notification
from store.clock import utcnow
from store.enums import BatchStatus
from tasks.errors import (
    MSG_CANCEL_NOT_ALLOWED,
    MSG_CANCELLED,
    MSG_DEADLINE_IN_PAST,
    MSG_EXTEND_NOT_ALLOWED,
    MSG_POOL_ENTRY_NOT_ELIGIBLE,
    MSG_SEND_NOT_DRAFT,
    MSG_SENT,
)
from tests.builders import BASE, BATCHES, BatchWorld, batches_snapshot
from tests.factories import make_assignment_batch, make_call, make_sent, with_token


def one(world: BatchWorld, suffix: str = "") -> str:
    return f"{BATCHES}{world.batch.uuid}/{suffix}"


# --- one batch --------------------------------------------------------------------------------


def test_retrieve_answers_the_batch_with_its_items(client: TestClient, world: BatchWorld) -> None:
    response = client.get(one(world), headers=with_token(world.manager))
    assert response.status_code == 200
    body = response.json()
    assert body["uuid"] == str(world.batch.uuid) and body["manager_notes"] == "Thanks!"
    assert [i["proposal_name"] for i in body["items"]] == ["Qubits", "Gates", "Blocked one"]
    assert body["items"][0]["batch"] == f"{BASE}{one(world)}"
    assert (body["items_count"], body["items_pending_count"]) == (3, 2)


def test_retrieve_is_404_for_whoever_may_not_see_the_batch(
    client: TestClient, world: BatchWorld
) -> None:
    for user in (world.reviewer_user, world.other_manager, world.stranger):
        response = client.get(one(world), headers=with_token(user))
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


@pytest.mark.parametrize("uuid", ["00000000-0000-0000-0000-000000000000", "nope", "%00"])
def test_an_unknown_or_malformed_uuid_is_404(
    client: TestClient, world: BatchWorld, uuid: str
) -> None:
    response = client.get(f"{BATCHES}{uuid}/", headers=with_token(world.staff))
    assert response.status_code == 404


def test_a_manager_creates_an_empty_manual_draft_for_a_pool_entry(
    client: TestClient, world: BatchWorld
) -> None:
    entry = world.fresh().reviewer_pool_entry
    body = {
        "call_uuid": str(world.call.uuid),
        "reviewer_pool_entry_uuid": str(entry.uuid),
        "manager_notes": "Welcome",
    }
    response = client.post(BATCHES, json=body, headers=with_token(world.manager))
    assert response.status_code == 201
    created = response.json()
    assert (created["status"], created["source"], created["items"]) == ("draft", "manual", [])
    assert created["manager_notes"] == "Welcome" and created["created_by_name"] == "Mona Manager"
    again = client.post(BATCHES, json=body, headers=with_token(world.manager))
    assert again.json()["uuid"] == created["uuid"]  # one open manual draft per pool entry


def test_create_with_waldurs_body_alone_is_404_and_refuses_non_managers(
    client: TestClient, world: BatchWorld
) -> None:
    before = AssignmentBatch.select().count()
    entry_only = {"reviewer_pool_entry_uuid": str(world.fresh().reviewer_pool_entry.uuid)}
    for body in ({"manager_notes": "x"}, {}, {"call_uuid": str(world.call.uuid)}, entry_only):
        response = client.post(BATCHES, json=body, headers=with_token(world.manager))
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), body
    entry = world.fresh().reviewer_pool_entry
    body = {"call_uuid": str(world.call.uuid), "reviewer_pool_entry_uuid": str(entry.uuid)}
    for user in (world.reviewer_user, world.other_manager):
        assert client.post(BATCHES, json=body, headers=with_token(user)).status_code == 404
    assert AssignmentBatch.select().count() == before


def test_put_and_patch_set_the_manager_notes(client: TestClient, world: BatchWorld) -> None:
    headers = with_token(world.manager)
    assert (
        client.put(one(world), json={"manager_notes": "A"}, headers=headers).json()["manager_notes"]
        == "A"
    )
    patched = client.patch(one(world), json={}, headers=headers)
    assert (patched.status_code, patched.json()["manager_notes"]) == (200, "A")
    assert client.patch(one(world), json={"manager_notes": "B"}, headers=headers).status_code == 200
    assert world.fresh().manager_notes == "B"


def test_a_body_that_is_not_an_object_or_holds_nul_is_400(
    client: TestClient, world: BatchWorld
) -> None:
    headers = with_token(world.manager)
    for body in ([1, 2], {"manager_notes": "a\x00b"}, {"manager_notes": 5}):
        response = client.patch(one(world), json=body, headers=headers)
        assert response.status_code == 400, body
    raw = client.patch(one(world), content=b"{not json", headers=headers)
    assert raw.status_code == 400
    assert world.fresh().manager_notes == "Thanks!"


def test_a_reviewers_manager_action_is_403_and_changes_nothing(
    client: TestClient, world: BatchWorld
) -> None:
    make_sent(world.batch)
    headers = with_token(world.reviewer_user)
    before = batches_snapshot()
    calls = [
        ("patch", one(world), {"manager_notes": "mine"}),
        ("delete", one(world), None),
        ("post", one(world, "cancel/"), None),
        ("post", one(world, "extend-deadline/"), {"expires_at": "2099-01-01T00:00:00Z"}),
        ("post", one(world, "send/"), {}),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, path
        assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert batches_snapshot() == before


def test_delete_removes_a_draft_and_refuses_a_sent_batch(
    client: TestClient, world: BatchWorld
) -> None:
    headers = with_token(world.manager)
    sent = make_assignment_batch(world.call)
    make_sent(sent)
    refused = client.delete(f"{BATCHES}{sent.uuid}/", headers=headers)
    assert refused.status_code == 400 and "error" in refused.json()
    response = client.delete(one(world), headers=headers)
    assert (response.status_code, response.content) == (204, b"")
    assert client.get(one(world), headers=headers).status_code == 404


def test_cancel_answers_its_message_then_refuses_a_second_time(
    client: TestClient, world: BatchWorld
) -> None:
    headers = with_token(world.manager)
    first = client.post(one(world, "cancel/"), headers=headers)
    assert (first.status_code, first.json()) == (200, {"message": MSG_CANCELLED})
    second = client.post(one(world, "cancel/"), headers=headers)
    assert (second.status_code, second.json()) == (400, {"error": MSG_CANCEL_NOT_ALLOWED})


def test_extend_deadline_moves_it_or_answers_domain_messages(
    client: TestClient, world: BatchWorld
) -> None:
    headers = with_token(world.manager)
    draft = client.post(
        one(world, "extend-deadline/"), json={"expires_at": "2099-01-01T00:00:00Z"}, headers=headers
    )
    assert (draft.status_code, draft.json()) == (400, {"error": MSG_EXTEND_NOT_ALLOWED})
    make_sent(world.batch)
    past = client.post(
        one(world, "extend-deadline/"), json={"expires_at": "2001-01-01T00:00:00Z"}, headers=headers
    )
    assert (past.status_code, past.json()) == (400, {"expires_at": [MSG_DEADLINE_IN_PAST]})
    for body in ({}, {"expires_at": "9999-12-31T23:00:00-05:00"}, {"expires_at": "soon"}):
        refused = client.post(one(world, "extend-deadline/"), json=body, headers=headers)
        assert (refused.status_code, sorted(refused.json())) == (400, ["expires_at"])
    ok = client.post(
        one(world, "extend-deadline/"),
        json={"expires_at": "2099-01-01T12:00:00+02:00"},
        headers=headers,
    )
    assert (ok.status_code, ok.json()) == (
        200,
        {"expires_at": "2099-01-01T10:00:00Z", "status": "sent"},
    )


def test_send_invites_the_reviewer_once(
    client: TestClient,
    world: BatchWorld,
    stub_broker: StubBroker,
) -> None:
    headers = with_token(world.manager)
    response = client.post(one(world, "send/"), json={"manager_notes": "Please"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["detail"] == MSG_SENT and response.json()["expires_at"].endswith("Z")
    assert (world.fresh().status, world.fresh().manager_notes) == (BatchStatus.SENT, "Please")
    assert Notification.select().count() == 1
    queued = sum(queue.qsize() for queue in stub_broker.queues.values())
    assert queued == 1  # the delivery, enqueued after the commit
    again = client.post(one(world, "send/"), headers=headers)
    assert (again.status_code, again.json()) == (400, {"error": MSG_SEND_NOT_DRAFT})


def test_retrieved_items_carry_what_the_published_client_requires(
    client: TestClient, world: BatchWorld
) -> None:
    AssignmentItem.update(
        override_reason="Checked", override_by=world.manager, override_at=utcnow()
    ).where(AssignmentItem.id == world.items[2].id).execute()
    items = client.get(one(world), headers=with_token(world.manager)).json()["items"]
    assert [i["review_uuid"] for i in items] == ["00000000-0000-0000-0000-000000000000"] * 3
    assert [i["overridden_by_name"] for i in items] == ["", "", "Mona Manager"]
    assert items[2]["override_reason"] == "Checked" and items[2]["overridden_at"].endswith("Z")
    assert items[0]["overridden_at"] is None and "proposal_summary" not in items[0]


def test_a_manager_of_another_call_gets_404_for_every_action_and_nothing_changes(
    client: TestClient, world: BatchWorld
) -> None:
    make_sent(world.batch)
    headers = with_token(world.other_manager)
    before = batches_snapshot()
    for method, path, body in [
        ("put", one(world), {"manager_notes": "x"}),
        ("delete", one(world), None),
        ("post", one(world, "cancel/"), None),
        ("post", one(world, "extend-deadline/"), {"expires_at": "2099-01-01T00:00:00Z"}),
        ("post", one(world, "send/"), None),
    ]:
        response = client.request(method, path, json=body, headers=headers)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), path
    assert batches_snapshot() == before


def test_create_refuses_a_pool_entry_of_another_call_and_an_unknown_call(
    client: TestClient, world: BatchWorld
) -> None:
    foreign = make_assignment_batch(make_call()).reviewer_pool_entry
    headers = with_token(world.staff)
    body = {"call_uuid": str(world.call.uuid), "reviewer_pool_entry_uuid": str(foreign.uuid)}
    response = client.post(BATCHES, json=body, headers=headers)
    assert (response.status_code, response.json()) == (400, {"error": MSG_POOL_ENTRY_NOT_ELIGIBLE})
    unknown = client.post(BATCHES, json={**body, "call_uuid": "no-such-call"}, headers=headers)
    assert unknown.status_code == 404


def test_openapi_documents_every_batch_call_and_review_operation(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        BATCHES: {"get", "head", "post"},
        BATCHES + "{uuid}/": {"get", "put", "patch", "delete"},
        BATCHES + "{uuid}/cancel/": {"post"},
        BATCHES + "{uuid}/extend-deadline/": {"post"},
        BATCHES + "{uuid}/send/": {"post"},
        "/api/my-assignment-batches/": {"get", "head"},
        "/api/my-assignment-batches/{uuid}/": {"get"},
        "/api/proposal-protected-calls/{uuid}/generate-assignments/": {"post"},
        "/api/proposal-protected-calls/{uuid}/create-manual-assignment/": {"post"},
        "/api/proposal-protected-calls/{uuid}/send-all-assignments/": {"post"},
        "/v1/reviews/assign": {"post"},
        "/v1/assignment-requests/{request_id}": {"get"},
    }
    assert {path: set(paths[path]) for path in expected} == expected
    assign = paths["/v1/reviews/assign"]["post"]
    assert {"200", "202"} <= set(assign["responses"])
    body_schema = assign["requestBody"]["content"]["application/json"]["schema"]
    assert "reviewIds" in body_schema["properties"]
    assert client.get("/docs").status_code == 200
