"""The published client (`waldur-api-client`) drives every operation of its `assignment_items`
module against a live server, on SQLite and PostgreSQL, and parses every answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from waldur_api_client import errors
from waldur_api_client.api.assignment_items import (
    assignment_items_accept,
    assignment_items_count,
    assignment_items_create,
    assignment_items_decline,
    assignment_items_destroy,
    assignment_items_force_unblock,
    assignment_items_list,
    assignment_items_partial_update,
    assignment_items_reassign,
    assignment_items_retrieve,
    assignment_items_suggest_alternatives_retrieve,
    assignment_items_update,
)
from waldur_api_client.client import AuthenticatedClient
from waldur_api_client.models import (
    AssignmentItem,
    AssignmentItemDeclineRequest,
    AssignmentItemOEnum,
    AssignmentItemRequest,
    AssignmentItemResponse,
    AssignmentItemStatus,
    ForceUnblockRequest,
    PatchedAssignmentItemRequest,
    ReassignItemRequest,
    ReassignItemResponse,
    SuggestAlternativeReviewers,
)

from store import AssignmentItem as ItemRow
from store import Call, Reviewer, ReviewerPoolEntry
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus
from tasks.users import rotate_token
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_pool_entry,
    make_reviewer,
    make_user,
)


@dataclass
class Clients:
    """The call's manager and its reviewer, each with the published client; the reviewer's
    sent batch holds three items: pending (0.8), pending (0.4), COI-blocked."""

    manager: AuthenticatedClient
    reviewer: AuthenticatedClient
    call: Call
    reviewer_row: Reviewer
    items: list[ItemRow]
    spare_entry: ReviewerPoolEntry


@pytest.fixture
def clients(live_url: str) -> Clients:
    call = make_call()
    user = make_user()
    reviewer = make_reviewer(user=user)
    now = utcnow()
    batch = make_assignment_batch(
        call, reviewer, status=BatchStatus.SENT, sent_at=now, expires_at=now + timedelta(days=3)
    )
    items = [
        make_assignment_item(batch, affinity_score=0.8),
        make_assignment_item(batch, affinity_score=0.4),
        make_assignment_item(batch, status=ItemStatus.COI_BLOCKED, has_coi=True),
    ]
    spare = make_pool_entry(call, make_reviewer(), max_assignments=3)
    manager = AuthenticatedClient(base_url=live_url, token=rotate_token(make_call_manager(call)))
    own = AuthenticatedClient(base_url=live_url, token=rotate_token(user), prefix="Bearer")
    return Clients(manager, own, call, reviewer, items, spare)


def test_list_with_every_filter_parses_into_items(clients: Clients) -> None:
    response = assignment_items_list.sync_detailed(
        client=clients.manager,
        batch_uuid=UUID(str(ItemRow.get_by_id(clients.items[0].id).batch.uuid)),
        call_uuid=UUID(str(clients.call.uuid)),
        reviewer_uuid=UUID(str(clients.reviewer_row.uuid)),
        status=[AssignmentItemStatus.PENDING, AssignmentItemStatus.DECLINED],
        has_coi=False,
        min_affinity_score=0.1,
        o=[AssignmentItemOEnum.VALUE_0],
        page=1,
        page_size=5,
    )
    assert response.status_code == 200 and response.parsed is not None
    assert [item.affinity_score for item in response.parsed] == [0.8, 0.4]
    assert all(isinstance(item, AssignmentItem) for item in response.parsed)


def test_count_parses_the_result_count_header(clients: Clients) -> None:
    response = assignment_items_count.sync_detailed(
        client=clients.reviewer, status=[AssignmentItemStatus.COI_BLOCKED]
    )
    assert response.parsed == 1


def test_retrieve_parses_into_an_item_with_absolute_urls(clients: Clients) -> None:
    item = clients.items[2]
    parsed = assignment_items_retrieve.sync_detailed(client=clients.reviewer, uuid=item.uuid).parsed
    assert isinstance(parsed, AssignmentItem) and parsed.status == AssignmentItemStatus.COI_BLOCKED
    assert parsed.status_display == "Blocked due to COI"
    assert parsed.url.startswith(clients.manager._base_url + "/api/assignment-items/")


def test_the_reviewer_accepts_and_declines_through_the_client(clients: Clients) -> None:
    first, second = clients.items[0].uuid, clients.items[1].uuid
    accepted = assignment_items_accept.sync_detailed(client=clients.reviewer, uuid=first).parsed
    declined = assignment_items_decline.sync_detailed(
        client=clients.reviewer, uuid=second, body=AssignmentItemDeclineRequest(reason="Busy")
    ).parsed
    assert isinstance(accepted, AssignmentItemResponse) and isinstance(accepted.review_uuid, UUID)
    assert isinstance(declined, AssignmentItemResponse) and declined.review_uuid is None


def test_a_manager_accepting_for_the_reviewer_is_refused_with_403(clients: Clients) -> None:
    with pytest.raises(errors.UnexpectedStatus) as refused:
        assignment_items_accept.sync_detailed(client=clients.manager, uuid=clients.items[0].uuid)
    assert refused.value.status_code == 403
    assert ItemRow.get_by_id(clients.items[0].id).status == ItemStatus.PENDING


def test_the_reviewer_edits_a_decline_reason_with_put_and_patch(clients: Clients) -> None:
    uuid = clients.items[1].uuid
    assignment_items_decline.sync_detailed(
        client=clients.reviewer, uuid=uuid, body=AssignmentItemDeclineRequest()
    )
    put = assignment_items_update.sync_detailed(
        client=clients.reviewer, uuid=uuid, body=AssignmentItemRequest(decline_reason="Busy")
    ).parsed
    patched = assignment_items_partial_update.sync_detailed(
        client=clients.reviewer, uuid=uuid, body=PatchedAssignmentItemRequest(decline_reason="Ill")
    ).parsed
    assert isinstance(put, AssignmentItem) and put.decline_reason == "Busy"
    assert isinstance(patched, AssignmentItem) and patched.decline_reason == "Ill"


def test_the_manager_reassigns_a_declined_item_through_the_client(clients: Clients) -> None:
    uuid = clients.items[1].uuid
    assignment_items_decline.sync_detailed(
        client=clients.reviewer, uuid=uuid, body=AssignmentItemDeclineRequest(reason="No")
    )
    suggestions = assignment_items_suggest_alternatives_retrieve.sync_detailed(
        client=clients.manager, uuid=uuid
    ).parsed
    assert isinstance(suggestions, SuggestAlternativeReviewers)
    assert [s.pool_entry_uuid for s in suggestions.suggestions] == [clients.spare_entry.uuid]
    body = ReassignItemRequest(
        reviewer_pool_entry_uuid=UUID(str(clients.spare_entry.uuid)), manager_notes="Thanks"
    )
    reassigned = assignment_items_reassign.sync_detailed(
        client=clients.manager, uuid=uuid, body=body
    ).parsed
    assert isinstance(reassigned, ReassignItemResponse)
    assert ItemRow.get(ItemRow.uuid == reassigned.new_item_uuid).reassign_count == 1


def test_the_manager_force_unblocks_and_gets_the_item_back(clients: Clients) -> None:
    parsed = assignment_items_force_unblock.sync_detailed(
        client=clients.manager,
        uuid=clients.items[2].uuid,
        body=ForceUnblockRequest(override_reason="Checked"),
    ).parsed
    assert isinstance(parsed, AssignmentItem) and parsed.status == AssignmentItemStatus.PENDING
    assert parsed.override_reason == "Checked" and parsed.overridden_at is not None
    assert parsed.status_display == "Awaiting response" and parsed.has_coi is False


def test_the_manager_deletes_an_item_of_a_draft_batch(clients: Clients) -> None:
    item = make_assignment_item(make_assignment_batch(clients.call))
    response = assignment_items_destroy.sync_detailed(client=clients.manager, uuid=item.uuid)
    assert response.status_code == 204 and response.parsed is None
    assert ItemRow.get_or_none(ItemRow.id == item.id) is None


def test_creating_an_item_is_refused_with_405(clients: Clients) -> None:
    with pytest.raises(errors.UnexpectedStatus) as refused:
        assignment_items_create.sync_detailed(
            client=clients.manager, body=AssignmentItemRequest(decline_reason="x")
        )
    assert refused.value.status_code == 405
