"""The records a batch's and an item's hyperlinks point to, read only:
`/api/proposal-proposals/` (list, filter `call_uuid`, and retrieve), `/api/proposal-reviews/
{uuid}/`, `/api/users/{uuid}/` and `/api/reviewer-profiles/{uuid}/`. Who sees what is
tasks/access.py's: whoever may see a batch may follow its links; anything else is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import CurrentUser
from api.pagination import DEFAULT_PAGE_SIZE, Page, PageSize, count_response, set_list_headers
from api.serializers.links import RequestLinks
from api.serializers.records import (
    ProposalOut,
    ReviewerProfileOut,
    ReviewOut,
    UserOut,
    proposal_out,
    review_out,
    reviewer_profile_out,
    user_out,
)
from api.types import QueryChoices, QueryUuid, Token, uuid_params
from tasks.calls.listing import get_proposal, list_proposals
from tasks.reviews import get_review, get_reviewer
from tasks.users import get_visible_user

PROPOSALS = "/api/proposal-proposals/"

router = APIRouter(default_response_class=JSONResponse)

Uuid = Annotated[str, Path(description="The record's uuid.")]
Ordering = Annotated[list[Token], Query(alias="o", description="Ordering (repeatable).")]


@router.get(PROPOSALS, tags=["proposal-proposals"], summary="List proposals")
def list_proposal_proposals(
    request: Request,
    response: Response,
    user: CurrentUser,
    links: RequestLinks,
    call_uuid: QueryUuid = None,
    state: QueryChoices = [],  # noqa: B006 (FastAPI copies defaults)
    o: Ordering = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[ProposalOut]:
    uuids = uuid_params(call_uuid=call_uuid)
    views, total = list_proposals(
        user, call_uuid=uuids["call_uuid"], state=state, ordering=o, page=page, page_size=page_size
    )
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [proposal_out(view, links) for view in views]


@router.head(PROPOSALS, tags=["proposal-proposals"], summary="Count proposals")
def count_proposal_proposals(
    request: Request,
    user: CurrentUser,
    call_uuid: QueryUuid = None,
    state: QueryChoices = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    uuids = uuid_params(call_uuid=call_uuid)
    _, total = list_proposals(user, call_uuid=uuids["call_uuid"], state=state, page_size=1)
    return count_response(request, total=total, page=page, page_size=page_size)


@router.get(PROPOSALS + "{uuid}/", tags=["proposal-proposals"], summary="Retrieve a proposal")
def retrieve_proposal_proposal(user: CurrentUser, links: RequestLinks, uuid: Uuid) -> ProposalOut:
    return proposal_out(get_proposal(user, uuid), links)


@router.get("/api/proposal-reviews/{uuid}/", tags=["proposal-reviews"], summary="Retrieve a review")
def retrieve_proposal_review(user: CurrentUser, links: RequestLinks, uuid: Uuid) -> ReviewOut:
    return review_out(get_review(user, uuid), links)


@router.get(
    "/api/users/{uuid}/",
    tags=["users"],
    summary="Retrieve a user",
    response_model_exclude_none=True,
)
def retrieve_user(user: CurrentUser, links: RequestLinks, uuid: Uuid) -> UserOut:
    found, private = get_visible_user(user, uuid)
    return user_out(found, private, links)


@router.get(
    "/api/reviewer-profiles/{uuid}/",
    tags=["reviewer-profiles"],
    summary="Retrieve a reviewer profile",
)
def retrieve_reviewer_profile(
    user: CurrentUser, links: RequestLinks, uuid: Uuid
) -> ReviewerProfileOut:
    return reviewer_profile_out(get_reviewer(user, uuid), links)
