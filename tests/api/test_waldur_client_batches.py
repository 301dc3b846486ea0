"""The published client (`waldur-api-client`) drives every operation of its `assignment_batches`
and `my_assignment_batches` modules, and the call-level generate, manual and send-all functions
of `proposal_protected_calls`, against a live server on SQLite and PostgreSQL; every answer
parses into the client's models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from waldur_api_client import errors
from waldur_api_client.api.assignment_batches import (
    assignment_batches_cancel,
    assignment_batches_count,
    assignment_batches_create,
    assignment_batches_destroy,
    assignment_batches_extend_deadline,
    assignment_batches_list,
    assignment_batches_partial_update,
    assignment_batches_retrieve,
    assignment_batches_send,
    assignment_batches_update,
)
from waldur_api_client.api.my_assignment_batches import (
    my_assignment_batches_count,
    my_assignment_batches_list,
    my_assignment_batches_retrieve,
)
from waldur_api_client.api.proposal_protected_calls import (
    proposal_protected_calls_create_manual_assignment,
    proposal_protected_calls_generate_assignments,
    proposal_protected_calls_send_all_assignments,
)
from waldur_api_client.client import AuthenticatedClient
from waldur_api_client.models import (
    AssignmentBatch,
    AssignmentBatchList,
    AssignmentBatchListOEnum,
    AssignmentBatchRequest,
    AssignmentBatchStatus,
    AssignmentSource,
    CreateManualAssignmentRequest,
    CreateManualAssignmentResponse,
    ExtendDeadlineRequestRequest,
    ExtendDeadlineResponse,
    GenerateAssignmentsRequest,
    GenerateAssignmentsResponse,
    MessageResponse,
    MyAssignmentBatch,
    MyAssignmentBatchDetail,
    PatchedAssignmentBatchRequest,
    SendAllAssignmentBatchesRequest,
    SendAllAssignmentBatchesResponse,
    SendAssignmentBatchRequest,
    SendAssignmentBatchResponse,
)

from store import AssignmentBatch as BatchRow
from store import Reviewer, User
from store.enums import BatchStatus
from tasks.users import rotate_token
from tests.builders import PoolWorld, build_pool_world
from tests.factories import make_assignment_item, make_call_manager, make_user


@dataclass
class Session:
    """A call (3 proposals, 3 reviewers with room for 2 each) seen through the client by its
    manager, and by one of its reviewers who has a user account."""

    world: PoolWorld
    manager: AuthenticatedClient
    reviewer: AuthenticatedClient
    reviewer_user: User


@pytest.fixture
def session(live_url: str) -> Session:
    world = build_pool_world()
    reviewer_user = make_user()
    Reviewer.update(user=reviewer_user).where(Reviewer.id == world.reviewers[0].id).execute()
    manager = make_call_manager(world.call)
    return Session(
        world,
        AuthenticatedClient(base_url=live_url, token=rotate_token(manager)),
        AuthenticatedClient(base_url=live_url, token=rotate_token(reviewer_user), prefix="Bearer"),
        reviewer_user,
    )


def ok(response: Any, status: int, model: type | None) -> Any:
    """The answer had this status and, where the client defines a model, parsed into it."""
    assert response.status_code == status, response.content
    if model is not None:
        assert isinstance(response.parsed, model), response.content
    return response.parsed


@pytest.mark.usefixtures("inline_actors")
def test_the_call_level_functions_generate_assign_manually_and_send_all(
    session: Session,
) -> None:
    world, client = session.world, session.manager
    generated = ok(
        proposal_protected_calls_generate_assignments.sync_detailed(
            world.call.uuid, client=client, body=GenerateAssignmentsRequest()
        ),
        200,
        GenerateAssignmentsResponse,
    )
    assert (generated.batches_created, generated.items_created) == (3, 6)
    extra = make_user()
    Reviewer.update(user=extra).where(Reviewer.id == world.reviewers[1].id).execute()
    manual = ok(
        proposal_protected_calls_create_manual_assignment.sync_detailed(
            world.call.uuid,
            client=client,
            body=CreateManualAssignmentRequest(
                reviewer_pool_entry_uuid=world.entries[1].uuid,
                proposal_uuids=[p.uuid for p in world.proposals],
                override_workload_limit=True,
            ),
        ),
        200,
        CreateManualAssignmentResponse,
    )
    assert isinstance(manual.batch_uuid, UUID)
    sent = ok(
        proposal_protected_calls_send_all_assignments.sync_detailed(
            world.call.uuid, client=client, body=SendAllAssignmentBatchesRequest()
        ),
        200,
        SendAllAssignmentBatchesResponse,
    )
    assert sent.batches_sent >= 3 and isinstance(sent.skipped, int)
    assert BatchRow.select().where(BatchRow.status == BatchStatus.DRAFT).count() == 0


@pytest.mark.usefixtures("stub_broker")
def test_every_assignment_batch_operation_parses(session: Session) -> None:
    world, client = session.world, session.manager
    with pytest.raises(errors.UnexpectedStatus) as waldurs:  # 404: the refusal it documents
        assignment_batches_create.sync_detailed(
            client=client, body=AssignmentBatchRequest(manager_notes="Welcome")
        )
    assert (waldurs.value.status_code, json.loads(waldurs.value.content)) == (
        404,
        {"detail": "Not found."},
    )
    body = AssignmentBatchRequest(manager_notes="Welcome")
    body["call_uuid"] = str(world.call.uuid)
    body["reviewer_pool_entry_uuid"] = str(world.entries[0].uuid)
    created = ok(
        assignment_batches_create.sync_detailed(client=client, body=body), 201, AssignmentBatch
    )
    make_assignment_item(BatchRow.get(BatchRow.uuid == created.uuid), world.proposals[0])
    uuid = created.uuid
    ok(assignment_batches_retrieve.sync_detailed(uuid, client=client), 200, AssignmentBatch)
    ok(
        assignment_batches_update.sync_detailed(
            uuid, client=client, body=AssignmentBatchRequest(manager_notes="A")
        ),
        200,
        AssignmentBatch,
    )
    patched = ok(
        assignment_batches_partial_update.sync_detailed(
            uuid, client=client, body=PatchedAssignmentBatchRequest(manager_notes="B")
        ),
        200,
        AssignmentBatch,
    )
    assert patched.manager_notes == "B"
    sent = ok(
        assignment_batches_send.sync_detailed(
            uuid, client=client, body=SendAssignmentBatchRequest()
        ),
        200,
        SendAssignmentBatchResponse,
    )
    assert sent.expires_at.tzinfo is not None
    new_deadline = datetime.now(UTC) + timedelta(days=30)
    extended = ok(
        assignment_batches_extend_deadline.sync_detailed(
            uuid, client=client, body=ExtendDeadlineRequestRequest(expires_at=new_deadline)
        ),
        200,
        ExtendDeadlineResponse,
    )
    assert extended.status == "sent"
    rows = ok(
        assignment_batches_list.sync_detailed(
            client=client,
            call_uuid=world.call.uuid,
            status=[AssignmentBatchStatus.SENT, AssignmentBatchStatus.DRAFT],
            source=[AssignmentSource.MANUAL],
            o=[AssignmentBatchListOEnum.VALUE_0],
            sent_after=datetime.now(UTC) - timedelta(hours=1),
            page=1,
            page_size=5,
        ),
        200,
        list,
    )
    assert [r.uuid for r in rows] == [uuid] and isinstance(rows[0], AssignmentBatchList)
    assert (created.status_display, created.source_display) == (
        "Draft - pending approval",
        "Manually assigned",
    )
    assert rows[0].status_display == "Sent to reviewer"
    assert assignment_batches_count.sync(client=client, status=[AssignmentBatchStatus.SENT]) == 1
    ok(assignment_batches_cancel.sync_detailed(uuid, client=client), 200, MessageResponse)
    destroyed = assignment_batches_destroy.sync_detailed(uuid, client=client)
    assert destroyed.status_code == 204
    assert not BatchRow.select().where(BatchRow.uuid == uuid).exists()


@pytest.mark.usefixtures("stub_broker")
def test_every_my_assignment_batch_operation_parses(session: Session) -> None:
    world = session.world
    for entry in world.entries[:1]:
        batch = BatchRow.create(call=world.call, reviewer_pool_entry=entry)
        make_assignment_item(batch, world.proposals[0])
        make_assignment_item(batch, world.proposals[1])
    ok(
        proposal_protected_calls_send_all_assignments.sync_detailed(
            world.call.uuid, client=session.manager, body=SendAllAssignmentBatchesRequest()
        ),
        200,
        SendAllAssignmentBatchesResponse,
    )
    client = session.reviewer
    mine = ok(my_assignment_batches_list.sync_detailed(client=client), 200, list)
    assert len(mine) == 1 and isinstance(mine[0], MyAssignmentBatch)
    assert mine[0].items_pending_count == 2
    assert my_assignment_batches_count.sync(client=client) == 1
    one = ok(
        my_assignment_batches_retrieve.sync_detailed(str(mine[0].uuid), client=client),
        200,
        MyAssignmentBatchDetail,
    )
    assert one.uuid == mine[0].uuid and len(one.items) == 2
    # Waldur's slim shapes, nothing besides
    assert mine[0].additional_properties == {} and one.additional_properties == {}
    assert [item.additional_properties for item in one.items] == [{}, {}]
    assert (mine[0].status_display, one.items[0].status_display) == (
        "Sent to reviewer",
        "Awaiting response",
    )
    assert {item.proposal_summary for item in one.items} == {""}  # titles only


def test_the_clients_sync_all_follows_the_link_header_over_every_page(session: Session) -> None:
    call, entry = session.world.call, session.world.entries[0]
    made = {BatchRow.create(call=call, reviewer_pool_entry=entry).uuid for _ in range(23)}
    every = assignment_batches_list.sync_all(client=session.manager)  # pages of ten
    assert len(every) == 23 and {batch.uuid for batch in every} == made
