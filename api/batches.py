"""seeds/000 assignment batches: `/api/assignment-batches/` and `/api/my-assignment-batches/`.

POST create takes Waldur's request body, `manager_notes` alone, so the published client's
create is never refused as malformed (400). A batch is one invitation of one pool entry of one
call, which that body does not name: reviewq reads two optional fields besides,
`call_uuid` (uuid or external id) and `reviewer_pool_entry_uuid`, and answers 201 with the
pool entry's open manual draft, created empty when it has none (manual assignment then fills
it). Without them there is nothing to invite in, and the answer is the 404
`{"detail": "Not found."}` of a call the caller may not manage: the one refusal the client
documents for create. Every other body and status is domain.md's; permissions live in the use
cases.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CurrentUser
from api.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    PageSize,
    count_response,
    set_list_headers,
)
from api.serializers.answers import (
    ExtendOut,
    MessageOut,
    SendOut,
    cancelled_out,
    extended_out,
    sent_out,
)
from api.serializers.batches import (
    ApiBatchOut,
    BatchOut,
    MyBatchDetailOut,
    MyBatchOut,
    api_batch_out,
    batch_out,
    my_batch_detail_out,
    my_batch_out,
)
from api.serializers.links import RequestLinks
from api.types import Instant, QueryChoices, QueryUuid, Text, Token, uuid_params
from tasks.batches.actions import cancel_batch, delete_batch, extend_deadline, update_batch
from tasks.batches.listing import (
    BatchFilters,
    count_batches,
    count_own_batches,
    get_batch,
    get_own_batch,
    list_batches,
    list_own_batches,
)
from tasks.batches.manual import create_batch
from tasks.batches.send import send_batch
from tasks.results import deliver

BATCHES = "/api/assignment-batches/"
ONE_BATCH = "/api/assignment-batches/{uuid}/"
MY_BATCHES = "/api/my-assignment-batches/"

# JSONResponse renders with json.dumps, as these answers always were (pydantic's own JSON
# writes small floats differently: 1e-05 as 0.00001)
router = APIRouter(tags=["assignment-batches"], default_response_class=JSONResponse)


class BatchCreate(BaseModel):
    """POST body: Waldur's manager_notes, and (reviewq's) which pool entry of which call."""

    manager_notes: Text = ""
    call_uuid: Token | None = Field(
        default=None, description="The call (uuid or external id); without it: 404."
    )
    reviewer_pool_entry_uuid: Token | None = Field(
        default=None, description="The pool entry to invite; without it: 404."
    )


class BatchUpdate(BaseModel):
    """PUT/PATCH body: the manager's note is the one writable field (absent: unchanged)."""

    manager_notes: Text | None = None


class ExtendDeadline(BaseModel):
    expires_at: Instant = Field(description="New expiration date and time for the batch.")


class SendBatch(BaseModel):
    manager_notes: Text | None = Field(
        default=None, description="Optional notes to include in the invitation email."
    )


def batch_filters(
    call_uuid: QueryUuid = None,
    reviewer_pool_entry_uuid: QueryUuid = None,
    reviewer_uuid: QueryUuid = None,
    sent_after: Instant | None = None,
    sent_before: Instant | None = None,
    source: QueryChoices = [],  # noqa: B006 (FastAPI copies defaults)
    status: QueryChoices = [],  # noqa: B006
) -> BatchFilters:
    """The seeds/000 list filters; a repeated `source` or `status` means any of them; the
    uuid filters take uuids only, as Waldur's (the CLI also takes a call's external id)."""
    uuids = uuid_params(
        call_uuid=call_uuid,
        reviewer_pool_entry_uuid=reviewer_pool_entry_uuid,
        reviewer_uuid=reviewer_uuid,
    )
    return BatchFilters(
        **uuids,
        sent_after=sent_after,
        sent_before=sent_before,
        source=tuple(source),
        status=tuple(status),
    )


Filters = Annotated[BatchFilters, Depends(batch_filters)]
Ordering = Annotated[list[Token], Query(alias="o", description="Ordering (repeatable).")]


@router.head(BATCHES, summary="Count assignment batches")
def count_assignment_batches(
    request: Request,
    user: CurrentUser,
    filters: Filters,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    total = count_batches(user, filters)
    return count_response(request, total=total, page=page, page_size=page_size)


@router.get(BATCHES, summary="List assignment batches")
def list_assignment_batches(
    request: Request,
    response: Response,
    user: CurrentUser,
    links: RequestLinks,
    filters: Filters,
    o: Ordering = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[BatchOut]:
    views, total = list_batches(user, filters, ordering=o, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [batch_out(view, links) for view in views]


@router.post(BATCHES, status_code=201, summary="Create an assignment batch")
def create_assignment_batch(
    user: CurrentUser, links: RequestLinks, body: Annotated[BatchCreate | None, Body()] = None
) -> ApiBatchOut:
    wanted = body or BatchCreate()
    created = create_batch(
        user, wanted.call_uuid, wanted.reviewer_pool_entry_uuid, manager_notes=wanted.manager_notes
    )
    return api_batch_out(created, links)


@router.get(ONE_BATCH, summary="Retrieve an assignment batch")
def retrieve_assignment_batch(user: CurrentUser, links: RequestLinks, uuid: str) -> ApiBatchOut:
    return api_batch_out(get_batch(user, uuid), links)


@router.put(ONE_BATCH, summary="Update an assignment batch")
def update_assignment_batch(
    user: CurrentUser, links: RequestLinks, uuid: str, body: BatchUpdate
) -> ApiBatchOut:
    return api_batch_out(update_batch(user, uuid, body.manager_notes), links)


@router.patch(ONE_BATCH, summary="Partially update an assignment batch")
def partial_update_assignment_batch(
    user: CurrentUser, links: RequestLinks, uuid: str, body: BatchUpdate
) -> ApiBatchOut:
    return api_batch_out(update_batch(user, uuid, body.manager_notes), links)


@router.delete(ONE_BATCH, status_code=204, summary="Delete an assignment batch")
def delete_assignment_batch(user: CurrentUser, uuid: str) -> Response:
    delete_batch(user, uuid)
    return Response(status_code=204)


@router.post(ONE_BATCH + "cancel/", summary="Cancel this assignment batch")
def cancel_assignment_batch(user: CurrentUser, uuid: str) -> MessageOut:
    result = cancel_batch(user, uuid)
    deliver(result)
    return cancelled_out(result)


@router.post(ONE_BATCH + "extend-deadline/", summary="Extend deadline")
def extend_assignment_batch_deadline(
    user: CurrentUser, uuid: str, body: ExtendDeadline
) -> ExtendOut:
    result = extend_deadline(user, uuid, body.expires_at)
    deliver(result)
    return extended_out(result)


@router.post(ONE_BATCH + "send/", summary="Send this assignment batch invitation to the reviewer")
def send_assignment_batch(user: CurrentUser, uuid: str, body: SendBatch | None = None) -> SendOut:
    notes = body.manager_notes if body is not None else None
    result = send_batch(user, uuid, manager_notes=notes)
    deliver(result)  # the use case has committed
    return sent_out(result)


@router.head(MY_BATCHES, summary="Count my assignment batches")
def count_my_assignment_batches(
    request: Request, user: CurrentUser, page: Page = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> Response:
    total = count_own_batches(user)
    return count_response(request, total=total, page=page, page_size=page_size)


@router.get(MY_BATCHES, summary="My assignment batches: sent, responded or expired, newest first")
def list_my_assignment_batches(
    request: Request,
    response: Response,
    user: CurrentUser,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[MyBatchOut]:
    views, total = list_own_batches(user, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [my_batch_out(view) for view in views]


@router.get(MY_BATCHES + "{uuid}/", summary="Retrieve one of my assignment batches")
def retrieve_my_assignment_batch(user: CurrentUser, uuid: str) -> MyBatchDetailOut:
    return my_batch_detail_out(get_own_batch(user, uuid))
