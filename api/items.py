"""/api/assignment-items/: list (and HEAD for the count), retrieve, delete, and the actions of
domain.md: accept, decline, reassign, force-unblock, suggest_alternatives.

Creating an item directly is not offered (405): items come from generate, manual assignment and
reassignment. PUT/PATCH edit the one writable field, a declined item's `decline_reason`.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from api.deps import CurrentUser
from api.pagination import DEFAULT_PAGE_SIZE, Page, PageSize, set_list_headers
from api.serializers.answers import (
    AnswerOut,
    ReassignOut,
    SuggestionsOut,
    accepted_out,
    declined_out,
    reassigned_out,
    suggestions_out,
)
from api.serializers.items import ApiItemOut, ForceUnblockedOut, api_item_out, force_unblocked_out
from api.serializers.links import RequestLinks
from api.types import PlainText, QueryUuid, uuid_params
from tasks.items.answers import accept_item, decline_item, delete_item, edit_decline_reason
from tasks.items.coi import force_unblock
from tasks.items.listing import ItemFilters, count_items, get_item, list_items
from tasks.items.reassign import reassign_item, suggest_alternatives
from tasks.results import deliver

router = APIRouter(prefix="/api/assignment-items", tags=["assignment-items"])

ItemUuid = Annotated[str, Path(description="The assignment item's uuid.")]
Ordering = Annotated[
    list[str],
    Query(description="Ordering: affinity_score, created, status, responded_at; `-` descends."),
]


class DeclineRequest(BaseModel):
    reason: PlainText = ""


class ReassignRequest(BaseModel):
    reviewer_pool_entry_uuid: UUID
    manager_notes: PlainText = ""


class ItemEdit(BaseModel):
    decline_reason: PlainText | None = None


class ForceUnblockRequest(BaseModel):
    override_reason: PlainText


def item_filters(
    batch_uuid: QueryUuid = None,
    call_uuid: QueryUuid = None,
    proposal_uuid: QueryUuid = None,
    reviewer_uuid: QueryUuid = None,
    status: Annotated[list[str] | None, Query(description="Any of these statuses.")] = None,
    has_coi: bool | None = None,
    min_affinity_score: Annotated[float | None, Query(allow_inf_nan=False)] = None,
) -> ItemFilters:
    """The item filters; the uuid ones refuse what is not a uuid, as every list does."""
    uuids = uuid_params(
        batch_uuid=batch_uuid,
        call_uuid=call_uuid,
        proposal_uuid=proposal_uuid,
        reviewer_uuid=reviewer_uuid,
    )
    return ItemFilters(
        **uuids,
        status=tuple(status or ()),
        has_coi=has_coi,
        min_affinity_score=min_affinity_score,
    )


Filters = Annotated[ItemFilters, Depends(item_filters)]


@router.get("/")
def list_assignment_items(
    request: Request,
    response: Response,
    user: CurrentUser,
    links: RequestLinks,
    filters: Filters,
    o: Ordering = [],  # noqa: B006 (FastAPI copies defaults)
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[ApiItemOut]:
    views, total = list_items(user, filters, ordering=o, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [api_item_out(view, links) for view in views]


@router.head("/")
def count_assignment_items(user: CurrentUser, filters: Filters) -> Response:
    return Response(headers={"X-Result-Count": str(count_items(user, filters))})


@router.get("/{uuid}/")
def retrieve_assignment_item(uuid: ItemUuid, user: CurrentUser, links: RequestLinks) -> ApiItemOut:
    return api_item_out(get_item(user, uuid), links)


@router.put("/{uuid}/")
def update_assignment_item(
    uuid: ItemUuid, user: CurrentUser, links: RequestLinks, body: ItemEdit
) -> ApiItemOut:
    return api_item_out(edit_decline_reason(user, uuid, body.decline_reason), links)


@router.patch("/{uuid}/")
def partial_update_assignment_item(
    uuid: ItemUuid, user: CurrentUser, links: RequestLinks, body: ItemEdit
) -> ApiItemOut:
    return api_item_out(edit_decline_reason(user, uuid, body.decline_reason), links)


@router.delete("/{uuid}/", status_code=204)
def destroy_assignment_item(uuid: ItemUuid, user: CurrentUser) -> Response:
    delete_item(user, uuid)
    return Response(status_code=204)


@router.post("/{uuid}/accept/")
def accept_assignment_item(uuid: ItemUuid, user: CurrentUser) -> AnswerOut:
    result = accept_item(user, uuid)
    deliver(result)  # the use case has committed
    return accepted_out(result)


@router.post("/{uuid}/decline/")
def decline_assignment_item(
    uuid: ItemUuid, user: CurrentUser, body: Annotated[DeclineRequest | None, Body()] = None
) -> AnswerOut:
    reason = body.reason if body is not None else ""
    result = decline_item(user, uuid, reason=reason)
    deliver(result)
    return declined_out(result)


@router.post("/{uuid}/reassign/")
def reassign_assignment_item(
    uuid: ItemUuid, user: CurrentUser, body: ReassignRequest
) -> ReassignOut:
    entry_uuid = str(body.reviewer_pool_entry_uuid)
    result = reassign_item(user, uuid, entry_uuid, manager_notes=body.manager_notes)
    deliver(result)
    return reassigned_out(result)


@router.post("/{uuid}/force-unblock/")
def force_unblock_assignment_item(
    uuid: ItemUuid, user: CurrentUser, links: RequestLinks, body: ForceUnblockRequest
) -> ForceUnblockedOut:
    """Answers the item as it now is (what the published client parses), with `detail`."""
    result = force_unblock(user, uuid, body.override_reason)
    deliver(result)
    return force_unblocked_out(result, get_item(user, uuid), links)


@router.get("/{uuid}/suggest_alternatives/")
def suggest_alternative_reviewers(uuid: ItemUuid, user: CurrentUser) -> SuggestionsOut:
    return suggestions_out(suggest_alternatives(user, uuid))
