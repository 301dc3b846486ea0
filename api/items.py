"""/api/assignment-items/: list (and HEAD for the count), retrieve, delete, and the actions of
domain.md: accept, decline, reassign, force-unblock, suggest_alternatives.

Creating an item directly is not offered (405): items come from generate, manual assignment and
reassignment. PUT/PATCH edit the one writable field, a declined item's `decline_reason`.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import AfterValidator, BaseModel, Field

from api.deps import CurrentUser
from api.pagination import DEFAULT_PAGE_SIZE, Page, PageSize, set_list_headers
from tasks.items.answers import accept_item, decline_item
from tasks.items.coi import force_unblock
from tasks.items.listing import (
    ItemFilters,
    count_items,
    delete_item,
    edit_decline_reason,
    get_item,
    list_items,
)
from tasks.items.reassign import reassign_item, suggest_alternatives
from tasks.results import ActionResult, deliver

router = APIRouter(prefix="/api/assignment-items", tags=["assignment-items"])

ItemUuid = Annotated[str, Path(description="The assignment item's uuid.")]
Ordering = Annotated[
    list[str],
    Query(description="Ordering: affinity_score, created, status, responded_at; `-` descends."),
]


def _printable(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it here, naming the field, rather than fail later
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


Text = Annotated[str, AfterValidator(_printable), Field(max_length=10_000)]


class DeclineRequest(BaseModel):
    reason: Text = ""


class ReassignRequest(BaseModel):
    reviewer_pool_entry_uuid: UUID
    manager_notes: Text = ""


class ItemEdit(BaseModel):
    decline_reason: Text | None = None


class ForceUnblockRequest(BaseModel):
    override_reason: Text


#: a uuid or external id in the query string: no NUL, which PostgreSQL refuses
QueryId = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")]


def item_filters(
    batch_uuid: QueryId = None,
    call_uuid: QueryId = None,
    proposal_uuid: QueryId = None,
    reviewer_uuid: QueryId = None,
    status: Annotated[list[str] | None, Query(description="Any of these statuses.")] = None,
    has_coi: bool | None = None,
    min_affinity_score: Annotated[float | None, Query(allow_inf_nan=False)] = None,
) -> ItemFilters:
    return ItemFilters(
        batch_uuid=batch_uuid,
        call_uuid=call_uuid,
        proposal_uuid=proposal_uuid,
        reviewer_uuid=reviewer_uuid,
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
    filters: Filters,
    o: Ordering = [],  # noqa: B006 (FastAPI copies defaults)
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[dict[str, Any]]:
    rows, total = list_items(user, filters, ordering=o, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return rows


@router.head("/")
def count_assignment_items(user: CurrentUser, filters: Filters) -> Response:
    return Response(headers={"X-Result-Count": str(count_items(user, filters))})


@router.get("/{uuid}/")
def retrieve_assignment_item(uuid: ItemUuid, user: CurrentUser) -> dict[str, Any]:
    return get_item(user, uuid)


@router.put("/{uuid}/")
def update_assignment_item(uuid: ItemUuid, user: CurrentUser, body: ItemEdit) -> dict[str, Any]:
    return edit_decline_reason(user, uuid, body.decline_reason).body


@router.patch("/{uuid}/")
def partial_update_assignment_item(
    uuid: ItemUuid, user: CurrentUser, body: ItemEdit
) -> dict[str, Any]:
    return edit_decline_reason(user, uuid, body.decline_reason).body


@router.delete("/{uuid}/", status_code=204)
def destroy_assignment_item(uuid: ItemUuid, user: CurrentUser) -> Response:
    delete_item(user, uuid)
    return Response(status_code=204)


@router.post("/{uuid}/accept/")
def accept_assignment_item(uuid: ItemUuid, user: CurrentUser) -> dict[str, Any]:
    return _delivered(accept_item(user, uuid))


@router.post("/{uuid}/decline/")
def decline_assignment_item(
    uuid: ItemUuid, user: CurrentUser, body: Annotated[DeclineRequest | None, Body()] = None
) -> dict[str, Any]:
    reason = body.reason if body is not None else ""
    return _delivered(decline_item(user, uuid, reason=reason))


@router.post("/{uuid}/reassign/")
def reassign_assignment_item(
    uuid: ItemUuid, user: CurrentUser, body: ReassignRequest
) -> dict[str, Any]:
    entry_uuid = str(body.reviewer_pool_entry_uuid)
    return _delivered(reassign_item(user, uuid, entry_uuid, manager_notes=body.manager_notes))


@router.post("/{uuid}/force-unblock/")
def force_unblock_assignment_item(
    uuid: ItemUuid, user: CurrentUser, body: ForceUnblockRequest
) -> dict[str, Any]:
    """Answers the item as it now is (what the published client parses), with `detail`."""
    result = _delivered(force_unblock(user, uuid, body.override_reason))
    return {**get_item(user, uuid), **result}


@router.get("/{uuid}/suggest_alternatives/")
def suggest_alternative_reviewers(uuid: ItemUuid, user: CurrentUser) -> dict[str, Any]:
    body = suggest_alternatives(user, uuid).body
    return {**body, "suggestions": [_suggestion(s) for s in body["suggestions"]]}


def _suggestion(candidate: dict[str, Any]) -> dict[str, Any]:
    """A candidate with the published client's names besides ours."""
    return {
        "pool_entry_uuid": candidate["uuid"],
        "current_assignments": candidate["workload"],
        "max_assignments": candidate["workload"] + candidate["capacity_left"],
        **candidate,
    }


def _delivered(result: ActionResult) -> dict[str, Any]:
    """The body of `result`, once its mail is queued (the use case has committed)."""
    deliver(result)
    return result.body
