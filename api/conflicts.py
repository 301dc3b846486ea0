"""`/api/conflicts-of-interest/`: list (filters `call_uuid`, `reviewer_uuid`, `proposal_uuid`,
`status`, `severity`, `coi_type`; ordering `o`), retrieve, and the managers' decisions
`dismiss/`, `waive/`, `recuse/` with domain.md's effects on items (tasks/items/coi.py): the
action names the decision; the body's `review_notes` and `management_plan` are recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import CurrentUser
from api.pagination import DEFAULT_PAGE_SIZE, Page, PageSize, count_response, set_list_headers
from api.serializers.links import Links, RequestLinks
from api.serializers.pools import ConflictOut, conflict_out
from api.types import PlainText, QueryChoices, QueryUuid, Token, uuid_params
from store import User
from store.enums import CoiStatus
from tasks.conflicts import ConflictFilters, get_conflict, list_conflicts
from tasks.errors import FieldRejected, action_decides
from tasks.items.coi import decide_conflict

CONFLICTS = "/api/conflicts-of-interest/"
ONE = CONFLICTS + "{uuid}/"

router = APIRouter(tags=["conflicts-of-interest"], default_response_class=JSONResponse)

ConflictUuid = Annotated[str, Path(description="The conflict of interest's uuid.")]
Ordering = Annotated[list[Token], Query(alias="o", description="Ordering (repeatable).")]


class Decision(BaseModel):
    """Waldur's COIStatusUpdateRequest; the action decides the status, so `status` is
    optional and, when given, must name that same decision."""

    status: Token | None = None
    review_notes: PlainText | None = None
    management_plan: PlainText | None = None


def conflict_filters(
    call_uuid: QueryUuid = None,
    reviewer_uuid: QueryUuid = None,
    proposal_uuid: QueryUuid = None,
    status: QueryChoices = [],  # noqa: B006 (FastAPI copies defaults)
    severity: Token | None = None,
    coi_type: QueryChoices = [],  # noqa: B006
) -> ConflictFilters:
    uuids = uuid_params(
        call_uuid=call_uuid, reviewer_uuid=reviewer_uuid, proposal_uuid=proposal_uuid
    )
    return ConflictFilters(
        **uuids, status=tuple(status), severity=severity or None, coi_type=tuple(coi_type)
    )


Filters = Annotated[ConflictFilters, Depends(conflict_filters)]


@router.get(CONFLICTS, summary="List conflicts of interest")
def list_conflicts_of_interest(
    request: Request,
    response: Response,
    user: CurrentUser,
    links: RequestLinks,
    filters: Filters,
    o: Ordering = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[ConflictOut]:
    rows, total = list_conflicts(user, filters, ordering=o, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [conflict_out(row, links) for row in rows]


@router.head(CONFLICTS, summary="Count conflicts of interest")
def count_conflicts_of_interest(
    request: Request,
    user: CurrentUser,
    filters: Filters,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    _, total = list_conflicts(user, filters, page_size=1)
    return count_response(request, total=total, page=page, page_size=page_size)


@router.get(ONE, summary="Retrieve a conflict of interest")
def retrieve_conflict_of_interest(
    user: CurrentUser, links: RequestLinks, uuid: ConflictUuid
) -> ConflictOut:
    return conflict_out(get_conflict(user, uuid), links)


def _decide(
    user: User, uuid: str, decision: CoiStatus, body: Decision | None, links: Links
) -> ConflictOut:
    wanted = body or Decision()
    if wanted.status and wanted.status != decision.value:
        raise FieldRejected("status", action_decides(decision.value))
    decide_conflict(
        user,
        uuid,
        decision.value,
        review_notes=wanted.review_notes,
        management_plan=wanted.management_plan,
    )
    return conflict_out(get_conflict(user, uuid), links)


@router.post(ONE + "dismiss/", summary="Dismiss a conflict of interest (not a conflict)")
def dismiss_conflict_of_interest(
    user: CurrentUser,
    links: RequestLinks,
    uuid: ConflictUuid,
    body: Annotated[Decision | None, Body()] = None,
) -> ConflictOut:
    return _decide(user, uuid, CoiStatus.DISMISSED, body, links)


@router.post(ONE + "waive/", summary="Waive a conflict of interest (managed)")
def waive_conflict_of_interest(
    user: CurrentUser,
    links: RequestLinks,
    uuid: ConflictUuid,
    body: Annotated[Decision | None, Body()] = None,
) -> ConflictOut:
    return _decide(user, uuid, CoiStatus.WAIVED, body, links)


@router.post(ONE + "recuse/", summary="Recuse the reviewer (the conflict is upheld)")
def recuse_conflict_of_interest(
    user: CurrentUser,
    links: RequestLinks,
    uuid: ConflictUuid,
    body: Annotated[Decision | None, Body()] = None,
) -> ConflictOut:
    return _decide(user, uuid, CoiStatus.RECUSED, body, links)
