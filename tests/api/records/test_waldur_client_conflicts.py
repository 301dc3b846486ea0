"""The published client drives `conflicts_of_interest` (list with its filters, count,
retrieve, dismiss, waive, recuse) against a live server on SQLite and PostgreSQL: every answer
parses into ConflictOfInterest, and the decisions have domain.md's effects on the items."""

from __future__ import annotations

import functools
from uuid import UUID

from waldur_api_client.api.conflicts_of_interest import (
    conflicts_of_interest_count,
    conflicts_of_interest_dismiss,
    conflicts_of_interest_list,
    conflicts_of_interest_recuse,
    conflicts_of_interest_retrieve,
    conflicts_of_interest_waive,
)
from waldur_api_client.models import (
    COIStatusUpdateRequest,
    COIStatusUpdateStatusEnum,
    ConflictOfInterest,
    ConflictOfInterestStatusEnum,
)

from store import AssignmentItem, Review
from store.enums import ItemStatus, ReviewState
from tests.api.records.conftest import ClientWorld, answer_of, ok, status_of
from tests.factories import make_conflict


def decision(status: COIStatusUpdateStatusEnum, **notes: str) -> COIStatusUpdateRequest:
    return COIStatusUpdateRequest(status=status, **notes)


def test_a_manager_lists_filters_counts_and_retrieves_conflicts(
    client_world: ClientWorld,
) -> None:
    w, call = client_world, client_world.world.call
    other = make_conflict(call, w.invitee_profile, w.world.items[0].proposal)
    listed = ok(
        conflicts_of_interest_list.sync_detailed(client=w.manager, call_uuid=call.uuid), 200, list
    )
    assert {c.uuid for c in listed} == {w.conflict.uuid, other.uuid}
    assert all(isinstance(c, ConflictOfInterest) for c in listed)
    by_reviewer = conflicts_of_interest_list.sync_detailed(
        client=w.manager, reviewer_uuid=w.world.reviewer.uuid
    )
    assert [c.uuid for c in by_reviewer.parsed or []] == [w.conflict.uuid]
    by_proposal = conflicts_of_interest_list.sync_detailed(
        client=w.manager, proposal_uuid=w.world.items[0].proposal.uuid
    )
    assert [c.uuid for c in by_proposal.parsed or []] == [other.uuid]
    waived = conflicts_of_interest_list.sync_detailed(
        client=w.manager, status=[ConflictOfInterestStatusEnum.WAIVED]
    )
    assert waived.parsed == []
    count = conflicts_of_interest_count.sync_detailed(client=w.manager, call_uuid=call.uuid)
    assert count.headers["x-result-count"] == "2"
    one = ok(
        conflicts_of_interest_retrieve.sync_detailed(w.conflict.uuid, client=w.manager),
        200,
        ConflictOfInterest,
    )
    assert (one.reviewer_name, one.coi_type.value, one.status_display) == (
        "Rita Reviewer",
        "INST_SAME",
        "Pending review",
    )
    assert (one.severity.value, one.detection_method.value) == ("real", "automated")
    assert (one.severity_display, one.coi_type_display) == (
        "Real conflict - must recuse",
        "Same institution",
    )
    assert one.reviewed_by is None and one.call_uuid == call.uuid


def test_conflicts_are_hidden_from_reviewers_and_other_managers(client_world: ClientWorld) -> None:
    w = client_world
    dismiss = decision(COIStatusUpdateStatusEnum.DISMISSED)
    for client in (w.reviewer, w.other_manager):
        retrieve = functools.partial(
            conflicts_of_interest_retrieve.sync_detailed, w.conflict.uuid, client=client
        )
        assert status_of(retrieve) == 404
        listed = conflicts_of_interest_list.sync_detailed(client=client)
        assert listed.parsed == []
        refused = functools.partial(
            conflicts_of_interest_dismiss.sync_detailed,
            w.conflict.uuid,
            client=client,
            body=dismiss,
        )
        assert status_of(refused) == 404
    assert AssignmentItem.get_by_id(w.world.items[2].id).status == ItemStatus.COI_BLOCKED


def test_a_bad_uuid_filter_names_the_parameter(client_world: ClientWorld) -> None:
    w = client_world
    response = w.manager.get_httpx_client().get(
        "/api/conflicts-of-interest/", params={"call_uuid": "nope"}
    )
    assert response.status_code == 400
    assert response.json() == {"call_uuid": ["Enter a valid UUID."]}


def test_waive_unblocks_recuse_blocks_and_rejects_dismiss_unblocks_again(
    client_world: ClientWorld,
) -> None:
    w = client_world
    blocked = w.world.items[2]
    waived = ok(
        conflicts_of_interest_waive.sync_detailed(
            w.conflict.uuid,
            client=w.manager,
            body=decision(COIStatusUpdateStatusEnum.WAIVED, management_plan="Second reader"),
        ),
        200,
        ConflictOfInterest,
    )
    assert (waived.status, waived.management_plan) == (
        ConflictOfInterestStatusEnum.WAIVED,
        "Second reader",
    )
    assert waived.reviewed_by_name == "Mona Manager" and waived.reviewed_at is not None
    assert waived.status_display == "Waived with management plan"
    item = AssignmentItem.get_by_id(blocked.id)
    assert (item.status, item.has_coi) == (ItemStatus.PENDING, False)
    recused = ok(
        conflicts_of_interest_recuse.sync_detailed(
            w.conflict.uuid, client=w.manager, body=decision(COIStatusUpdateStatusEnum.RECUSED)
        ),
        200,
        ConflictOfInterest,
    )
    assert recused.status == ConflictOfInterestStatusEnum.RECUSED
    assert AssignmentItem.get_by_id(blocked.id).status == ItemStatus.COI_BLOCKED
    ok(
        conflicts_of_interest_dismiss.sync_detailed(
            w.conflict.uuid, client=w.manager, body=decision(COIStatusUpdateStatusEnum.DISMISSED)
        ),
        200,
        ConflictOfInterest,
    )
    assert AssignmentItem.get_by_id(blocked.id).status == ItemStatus.PENDING


def test_recusing_an_accepted_item_rejects_its_review(client_world: ClientWorld) -> None:
    w = client_world
    accepted = AssignmentItem.get_by_id(w.world.items[0].id)
    coi = make_conflict(w.world.call, w.world.reviewer, accepted.proposal)
    ok(
        conflicts_of_interest_recuse.sync_detailed(
            coi.uuid, client=w.manager, body=decision(COIStatusUpdateStatusEnum.RECUSED)
        ),
        200,
        ConflictOfInterest,
    )
    assert AssignmentItem.get_by_id(accepted.id).status == ItemStatus.COI_BLOCKED
    assert Review.get_by_id(accepted.review_id).state == ReviewState.REJECTED


def test_a_body_naming_another_decision_is_refused_and_changes_nothing(
    client_world: ClientWorld,
) -> None:
    w = client_world
    refused = answer_of(
        lambda: conflicts_of_interest_dismiss.sync_detailed(
            w.conflict.uuid, client=w.manager, body=decision(COIStatusUpdateStatusEnum.RECUSED)
        )
    )
    assert refused[0] == 400 and list(refused[1]) == ["status"]
    unknown = answer_of(
        lambda: conflicts_of_interest_waive.sync_detailed(
            UUID(int=3), client=w.manager, body=decision(COIStatusUpdateStatusEnum.WAIVED)
        )
    )
    assert unknown == (404, {"detail": "Not found."})
    assert AssignmentItem.get_by_id(w.world.items[2].id).status == ItemStatus.COI_BLOCKED
