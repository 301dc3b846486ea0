"""`/api/proposal-protected-calls/`: the calls (list, retrieve: what a batch's `call` links
to; visible to their managers and the reviewers of their pools), the call's reviewer pool
(`reviewer-pool/`: GET lists it, POST invites reviewers by id), and the call-level actions of
interfaces.md under `{uuid}/`.

generate-assignments is a queued request (api/reviews.py: waits by default, `Prefer:
respond-async` gives 202); manual assignment and send-all run at once. Only the call's managers
and staff may act: a reviewer of its pool gets 403, anyone else 404, before anything is queued.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CurrentUser
from api.pagination import DEFAULT_PAGE_SIZE, Page, PageSize, count_response, set_list_headers
from api.reviews import IdempotencyKey, PreferHeader, queued_answer, queued_responses
from api.serializers.answers import (
    GenerateOut,
    ManualOut,
    SendAllOut,
    manual_out,
    sent_all_out,
)
from api.serializers.links import RequestLinks
from api.serializers.pools import PoolEntryOut, pool_entry_out
from api.serializers.records import CallOut, call_out
from api.types import QueryChoices, Text, Token
from tasks.access import require_call_manager
from tasks.batches.manual import create_manual_assignment
from tasks.batches.send import send_all
from tasks.calls.listing import get_call, list_calls
from tasks.pools.invitations import add_reviewers
from tasks.pools.listing import PoolFilters, list_pool_entries, pool_entry_views
from tasks.producers import enqueue_generate
from tasks.results import deliver
from tasks.rules import MAX_REVIEWERS_PER_PROPOSAL

CALLS = "/api/proposal-protected-calls/"
CALL = CALLS + "{uuid}/"
MAX_IDS = 100_000

# json.dumps renders the answers, as it always did (see api/batches.py)
router = APIRouter(tags=["proposal-protected-calls"], default_response_class=JSONResponse)


Ordering = Annotated[list[Token], Query(alias="o", description="Ordering (repeatable).")]


class InviteReviewers(BaseModel):
    """Waldur's ReviewerInvitationRequest: the reviewer profiles to invite (uuids or external
    ids), their max_assignments (default 5) and a message for the invitation e-mail."""

    reviewer_uuids: list[Token] = Field(min_length=1, max_length=10_000)
    max_assignments: int | None = Field(default=None, ge=1, le=1000)
    invitation_message: Text = ""


@router.get(CALLS, summary="List calls")
def list_proposal_protected_calls(
    request: Request,
    response: Response,
    user: CurrentUser,
    links: RequestLinks,
    state: QueryChoices = [],  # noqa: B006 (FastAPI copies defaults)
    o: Ordering = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[CallOut]:
    calls, total = list_calls(user, state=state, ordering=o, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [call_out(call, links) for call in calls]


@router.head(CALLS, summary="Count calls")
def count_proposal_protected_calls(
    request: Request,
    user: CurrentUser,
    state: QueryChoices = [],  # noqa: B006
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    _, total = list_calls(user, state=state, page_size=1)
    return count_response(request, total=total, page=page, page_size=page_size)


@router.get(CALL, summary="Retrieve a call")
def retrieve_proposal_protected_call(user: CurrentUser, links: RequestLinks, uuid: str) -> CallOut:
    return call_out(get_call(user, uuid), links)


@router.get(CALL + "reviewer-pool/", summary="The call's reviewer pool")
def list_call_reviewer_pool(
    request: Request,
    response: Response,
    user: CurrentUser,
    links: RequestLinks,
    uuid: str,
    page: Page = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> list[PoolEntryOut]:
    call = require_call_manager(user, uuid)
    filters = PoolFilters(call_uuid=str(call.uuid))
    views, total = list_pool_entries(user, filters, page=page, page_size=page_size)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return [pool_entry_out(view, links) for view in views]


@router.post(CALL + "reviewer-pool/", summary="Invite reviewers to the call's pool")
def invite_call_reviewers(
    user: CurrentUser, links: RequestLinks, uuid: str, body: InviteReviewers
) -> list[PoolEntryOut]:
    """Adds a pending entry per reviewer not yet in the pool, each invited by e-mail; answers
    the entries of every named reviewer (200, as the published client reads it)."""
    call = require_call_manager(user, uuid)
    result = add_reviewers(
        user,
        str(call.uuid),
        body.reviewer_uuids,
        max_assignments=body.max_assignments,
        message=body.invitation_message,
    )
    deliver(result)  # the use case has committed
    return [pool_entry_out(view, links) for view in pool_entry_views(result.entries)]


class GenerateAssignments(BaseModel):
    proposal_uuids: list[Token] | None = Field(
        default=None,
        max_length=MAX_IDS,
        description="Only these proposals; all that still need reviewers when absent.",
    )
    reviewers_per_proposal: int | None = Field(
        default=None, ge=1, le=MAX_REVIEWERS_PER_PROPOSAL, description="Default: the call's."
    )
    algorithm: Token | None = Field(default=None, description="optimal, fair or greedy.")


class ManualAssignment(BaseModel):
    reviewer_pool_entry_uuid: Token
    proposal_uuids: list[Token] = Field(min_length=1, max_length=MAX_IDS)
    manager_notes: Text = ""
    override_workload_limit: bool = False


class SendAll(BaseModel):
    batch_uuids: list[Token] | None = Field(
        default=None, max_length=MAX_IDS, description="Only these; every draft when absent."
    )


@router.post(
    CALL + "generate-assignments/",
    summary="Generate assignments (queued)",
    responses=queued_responses(GenerateOut),
)
def generate_assignments(
    http: Request,
    user: CurrentUser,
    uuid: str,
    body: Annotated[GenerateAssignments | None, Body()] = None,
    prefer: PreferHeader = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    call = require_call_manager(user, uuid)
    options = body or GenerateAssignments()
    request = enqueue_generate(
        str(call.uuid),
        acting_user=str(user.uuid),
        proposal_uuids=options.proposal_uuids,
        reviewers_per_proposal=options.reviewers_per_proposal,
        algorithm=options.algorithm,
        idempotency_key=idempotency_key,
        requested_by=user.id,
    )
    return queued_answer(http.url.path, request, prefer)


@router.post(CALL + "create-manual-assignment/", summary="Create a manual assignment")
def create_manual(user: CurrentUser, uuid: str, body: ManualAssignment) -> ManualOut:
    call = require_call_manager(user, uuid)
    result = create_manual_assignment(
        user,
        str(call.uuid),
        body.reviewer_pool_entry_uuid,
        body.proposal_uuids,
        manager_notes=body.manager_notes,
        override_workload_limit=body.override_workload_limit,
    )
    return manual_out(result)


@router.post(CALL + "send-all-assignments/", summary="Send all draft assignment batches")
def send_all_assignments(
    user: CurrentUser, uuid: str, body: Annotated[SendAll | None, Body()] = None
) -> SendAllOut:
    call = require_call_manager(user, uuid)
    wanted = body.batch_uuids if body is not None else None
    result = send_all(user, str(call.uuid), wanted)
    deliver(result)
    return sent_all_out(result)
