"""The call-level actions of interfaces.md, under `/api/proposal-protected-calls/{uuid}/`.

generate-assignments is a queued request (api/reviews.py: waits by default, `Prefer:
respond-async` gives 202); manual assignment and send-all run at once. Only the call's managers
and staff may act: a reviewer of its pool gets 403, anyone else 404, before anything is queued.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CurrentUser
from api.reviews import IdempotencyKey, PreferHeader, queued_answer, queued_responses
from api.serializers.answers import (
    GenerateOut,
    ManualOut,
    SendAllOut,
    manual_out,
    sent_all_out,
)
from api.types import Text, Token
from tasks.access import require_call_manager
from tasks.batches.manual import create_manual_assignment
from tasks.batches.send import send_all
from tasks.producers import enqueue_generate
from tasks.results import deliver
from tasks.rules import MAX_REVIEWERS_PER_PROPOSAL

CALL = "/api/proposal-protected-calls/{uuid}/"
MAX_IDS = 100_000

# json.dumps renders the answers, as it always did (see api/batches.py)
router = APIRouter(tags=["proposal-protected-calls"], default_response_class=JSONResponse)


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
