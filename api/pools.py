"""`/api/call-reviewer-pools/`: a call's reviewer pool entries (list with `call_uuid`,
`reviewer_uuid`, `invitation_status`, `my_invitations`; retrieve), the reviewer's `accept/`
(with the conflicts of interest they declare) and `decline/` of their invitation, and a
manager's `resend-invitation/` (an e-mail through the outbox). The call's own
`reviewer-pool/` action is in api/calls.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CurrentUser
from api.pagination import DEFAULT_PAGE_SIZE, Page, PageSize, count_response, set_list_headers
from api.serializers.links import RequestLinks
from api.serializers.pools import (
    InvitationAcceptedOut,
    InvitationDeclinedOut,
    PoolEntryOut,
    invitation_accepted_out,
    invitation_declined_out,
    pool_entry_out,
)
from api.types import PlainText, QueryChoices, QueryUuid, Token, uuid_params
from tasks.pools.invitations import (
    DeclaredConflict,
    accept_invitation,
    decline_invitation,
    resend_invitation,
)
from tasks.pools.listing import PoolFilters, get_pool_entry, list_pool_entries
from tasks.results import deliver

POOLS = "/api/call-reviewer-pools/"
ONE = POOLS + "{uuid}/"

router = APIRouter(tags=["call-reviewer-pools"], default_response_class=JSONResponse)

EntryUuid = Annotated[str, Path(description="The pool entry's uuid.")]
Ordering = Annotated[list[Token], Query(alias="o", description="Ordering (repeatable).")]


class SelfDeclaredConflict(BaseModel):
    """A conflict of interest the reviewer declares on accepting."""

    proposal_uuid: Token
    coi_type: Token
    severity: Token = "apparent"
    description: PlainText = ""


class DeclineInvitation(BaseModel):
    reason: PlainText = Field(description="Reason for declining the invitation.")


def pool_filters(
    call_uuid: QueryUuid = None,
    reviewer_uuid: QueryUuid = None,
    invitation_status: QueryChoices = [],  # noqa: B006 (FastAPI copies defaults)
    my_invitations: bool = False,
) -> PoolFilters:
    uuids = uuid_params(call_uuid=call_uuid, reviewer_uuid=reviewer_uuid)
    return PoolFilters(
        **uuids, invitation_status=tuple(invitation_status), my_invitations=my_invitations
    )


Filters = Annotated[PoolFilters, Depends(pool_filters)]


@router.get(POOLS, summary="List reviewer pool entries")
def list_call_reviewer_pools(
    request: Request,
    response: Response,
    user: CurrentUser,
    links: RequestLinks,
    filters: Filters,
    o: Ordering = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[PoolEntryOut]:
    views, total = list_pool_entries(user, filters, ordering=o, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [pool_entry_out(view, links) for view in views]


@router.head(POOLS, summary="Count reviewer pool entries")
def count_call_reviewer_pools(
    request: Request,
    user: CurrentUser,
    filters: Filters,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    _, total = list_pool_entries(user, filters, page_size=1)
    return count_response(request, total=total, page=page, page_size=page_size)


@router.get(ONE, summary="Retrieve a reviewer pool entry")
def retrieve_call_reviewer_pool(
    user: CurrentUser, links: RequestLinks, uuid: EntryUuid
) -> PoolEntryOut:
    return pool_entry_out(get_pool_entry(user, uuid), links)


@router.post(ONE + "accept/", summary="Accept my invitation to the pool")
def accept_call_reviewer_pool(
    user: CurrentUser,
    uuid: EntryUuid,
    body: Annotated[list[SelfDeclaredConflict] | None, Body(max_length=1000)] = None,
) -> InvitationAcceptedOut:
    declared = [
        DeclaredConflict(c.proposal_uuid, c.coi_type, c.severity, c.description) for c in body or []
    ]
    return invitation_accepted_out(accept_invitation(user, uuid, declared))


@router.post(ONE + "decline/", summary="Decline my invitation to the pool")
def decline_call_reviewer_pool(
    user: CurrentUser, uuid: EntryUuid, body: DeclineInvitation
) -> InvitationDeclinedOut:
    return invitation_declined_out(decline_invitation(user, uuid, body.reason))


@router.post(ONE + "resend-invitation/", summary="Send the pool invitation again")
def resend_call_reviewer_pool_invitation(
    user: CurrentUser, links: RequestLinks, uuid: EntryUuid
) -> PoolEntryOut:
    result = resend_invitation(user, uuid)
    deliver(result)  # the use case has committed
    return pool_entry_out(get_pool_entry(user, uuid), links)
