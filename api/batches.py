"""seeds/000 assignment batches: `/api/assignment-batches/` and `/api/my-assignment-batches/`.

POST create needs, beyond seeds/000's `manager_notes`, the `call_uuid` and the
`reviewer_pool_entry_uuid` (uuid or external id for the call) of the invitation: it answers 201
with the pool entry's open manual draft, created empty when it has none (manual assignment
then fills it). Every other body and status is domain.md's; permissions live in the use cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field

from api.deps import CurrentUser
from api.pagination import DEFAULT_PAGE_SIZE, Page, PageSize, set_list_headers
from store import User
from store.clock import to_naive_utc
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
from tasks.batches.wire_api import with_api_item, with_api_items
from tasks.results import ActionResult, deliver

#: an id (uuid or external id) as a caller may send it: no NUL, which PostgreSQL refuses
Token = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
#: free text (notes, reasons)
Text = Annotated[str, Field(max_length=10_000, pattern=r"^[^\x00]*$")]


def _utc_representable(value: datetime) -> datetime:
    try:
        to_naive_utc(value)
    except OverflowError:
        raise ValueError("Date out of range once converted to UTC.") from None
    return value


#: an instant the store can hold: with its offset applied it stays within years 1 to 9999
Instant = Annotated[datetime, AfterValidator(_utc_representable)]
QueryToken = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
QueryChoices = Annotated[list[Token], Query()]

BATCHES = "/api/assignment-batches/"
ONE_BATCH = "/api/assignment-batches/{uuid}/"
MY_BATCHES = "/api/my-assignment-batches/"

router = APIRouter(tags=["assignment-batches"])


class BatchCreate(BaseModel):
    """POST body: seeds/000's manager_notes, and which pool entry of which call to invite."""

    call_uuid: Token
    reviewer_pool_entry_uuid: Token
    manager_notes: Text = ""


class BatchUpdate(BaseModel):
    """PUT/PATCH body: the manager's note is the one writable field (absent: unchanged)."""

    manager_notes: Text | None = None


class ExtendDeadline(BaseModel):
    expires_at: Instant = Field(description="New expiration date and time for the batch.")


class SendBatch(BaseModel):
    manager_notes: Text | None = Field(
        default=None, description="Optional notes to include in the invitation email."
    )


class BatchItemOut(BaseModel):
    """An item inside a batch (documentation of the answer; seeds/000 plus the client's)."""

    url: str
    uuid: str
    batch: str
    proposal: str
    proposal_uuid: str
    proposal_name: str
    proposal_slug: str
    status: str
    status_display: str
    affinity_score: float | None
    has_coi: bool
    coi_count: int
    responded_at: datetime | None
    decline_reason: str
    review: str | None
    review_uuid: str
    reassign_count: int
    created: datetime
    override_reason: str
    overridden_by_name: str
    overridden_at: datetime | None


class BatchOut(BaseModel):
    """A batch in a list (documentation of the answer, seeds/000 field for field)."""

    url: str
    uuid: str
    call: str
    call_uuid: str
    call_name: str
    reviewer_pool_entry: str
    reviewer_pool_entry_uuid: str
    reviewer_name: str | None
    reviewer_email: str | None
    reviewer_uuid: str | None
    status: str
    status_display: str
    sent_at: datetime | None
    expires_at: datetime | None
    responded_at: datetime | None
    source: str
    source_display: str
    created_by: str | None
    created_by_name: str
    manager_notes: str
    items_count: int
    items_pending_count: int
    items_accepted_count: int
    items_declined_count: int
    is_expired: bool
    created: datetime


class BatchDetailOut(BatchOut):
    """A batch with its items (retrieve, create, update, my batches)."""

    items: list[BatchItemOut]


class MessageOut(BaseModel):
    message: str


class ExtendOut(BaseModel):
    expires_at: datetime
    status: str


class SendOut(BaseModel):
    detail: str
    expires_at: datetime


def documented(model: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` that documents the answer's shape (the handlers answer JSON directly)."""
    return {status: {"model": model}}


def batch_filters(
    call_uuid: QueryToken = None,
    reviewer_pool_entry_uuid: QueryToken = None,
    reviewer_uuid: QueryToken = None,
    sent_after: Instant | None = None,
    sent_before: Instant | None = None,
    source: QueryChoices = [],  # noqa: B006 (FastAPI copies defaults)
    status: QueryChoices = [],  # noqa: B006
) -> BatchFilters:
    """The seeds/000 list filters; a repeated `source` or `status` means any of them."""
    return BatchFilters(
        call_uuid=call_uuid,
        reviewer_pool_entry_uuid=reviewer_pool_entry_uuid,
        reviewer_uuid=reviewer_uuid,
        sent_after=sent_after,
        sent_before=sent_before,
        source=tuple(source),
        status=tuple(status),
    )


Filters = Annotated[BatchFilters, Depends(batch_filters)]
Ordering = Annotated[list[Token], Query(alias="o", description="Ordering (repeatable).")]


def list_response(
    request: Request, rows: list[dict[str, Any]], *, total: int, page: int, page_size: int
) -> JSONResponse:
    """A seeds/000 list: the JSON array, X-Result-Count and Link."""
    response = JSONResponse(rows)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return response


def count_response(request: Request, *, total: int, page: int, page_size: int) -> Response:
    """HEAD on a list: its headers, no body."""
    response = Response(status_code=200)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return response


def action_response(result: ActionResult, status_code: int = 200) -> JSONResponse:
    """Deliver the action's mail (its transaction has committed), then answer its body."""
    deliver(result)
    return JSONResponse(result.body, status_code=status_code)


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


@router.get(BATCHES, summary="List assignment batches", responses=documented(list[BatchOut]))
def list_assignment_batches(
    request: Request,
    user: CurrentUser,
    filters: Filters,
    o: Ordering = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    rows, total = list_batches(user, filters, ordering=o, page=page, page_size=page_size)
    return list_response(request, rows, total=total, page=page, page_size=page_size)


@router.post(
    BATCHES,
    status_code=201,
    summary="Create an assignment batch",
    responses=documented(BatchDetailOut, 201),
)
def create_assignment_batch(user: CurrentUser, body: BatchCreate) -> JSONResponse:
    created = create_batch(
        user, body.call_uuid, body.reviewer_pool_entry_uuid, manager_notes=body.manager_notes
    )
    return JSONResponse(with_api_item(created), status_code=201)


@router.get(ONE_BATCH, summary="Retrieve an assignment batch", responses=documented(BatchDetailOut))
def retrieve_assignment_batch(user: CurrentUser, uuid: str) -> JSONResponse:
    return JSONResponse(with_api_item(get_batch(user, uuid)))


def _update(user: User, uuid: str, body: BatchUpdate) -> JSONResponse:
    result = update_batch(user, uuid, body.manager_notes)
    deliver(result)
    return JSONResponse(with_api_item(result.body))


@router.put(ONE_BATCH, summary="Update an assignment batch", responses=documented(BatchDetailOut))
def update_assignment_batch(user: CurrentUser, uuid: str, body: BatchUpdate) -> JSONResponse:
    return _update(user, uuid, body)


@router.patch(
    ONE_BATCH,
    summary="Partially update an assignment batch",
    responses=documented(BatchDetailOut),
)
def partial_update_assignment_batch(
    user: CurrentUser, uuid: str, body: BatchUpdate
) -> JSONResponse:
    return _update(user, uuid, body)


@router.delete(ONE_BATCH, status_code=204, summary="Delete an assignment batch")
def delete_assignment_batch(user: CurrentUser, uuid: str) -> Response:
    deliver(delete_batch(user, uuid))
    return Response(status_code=204)


@router.post(
    ONE_BATCH + "cancel/",
    summary="Cancel this assignment batch",
    responses=documented(MessageOut),
)
def cancel_assignment_batch(user: CurrentUser, uuid: str) -> JSONResponse:
    return action_response(cancel_batch(user, uuid))


@router.post(
    ONE_BATCH + "extend-deadline/", summary="Extend deadline", responses=documented(ExtendOut)
)
def extend_assignment_batch_deadline(
    user: CurrentUser, uuid: str, body: ExtendDeadline
) -> JSONResponse:
    return action_response(extend_deadline(user, uuid, body.expires_at))


@router.post(
    ONE_BATCH + "send/",
    summary="Send this assignment batch invitation to the reviewer",
    responses=documented(SendOut),
)
def send_assignment_batch(
    user: CurrentUser, uuid: str, body: SendBatch | None = None
) -> JSONResponse:
    notes = body.manager_notes if body is not None else None
    return action_response(send_batch(user, uuid, manager_notes=notes))


@router.head(MY_BATCHES, summary="Count my assignment batches")
def count_my_assignment_batches(
    request: Request, user: CurrentUser, page: Page = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> Response:
    total = count_own_batches(user)
    return count_response(request, total=total, page=page, page_size=page_size)


@router.get(
    MY_BATCHES,
    summary="My assignment batches: the sent ones, newest first",
    responses=documented(list[BatchDetailOut]),
)
def list_my_assignment_batches(
    request: Request, user: CurrentUser, page: Page = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> JSONResponse:
    rows, total = list_own_batches(user, page=page, page_size=page_size)
    rows = with_api_items(rows, summaries=True)
    return list_response(request, rows, total=total, page=page, page_size=page_size)


@router.get(
    MY_BATCHES + "{uuid}/",
    summary="Retrieve one of my assignment batches",
    responses=documented(BatchDetailOut),
)
def retrieve_my_assignment_batch(user: CurrentUser, uuid: str) -> JSONResponse:
    return JSONResponse(with_api_item(get_own_batch(user, uuid), summaries=True))
