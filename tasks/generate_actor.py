"""generate-assignments as a queued request: the message, its handler, the actor, the producer.

The message is `{"request": BODY, "request_id"?, "idempotency_key"?}` (tasks/requests.py) with
BODY `{"call", "proposal_uuids"?, "reviewers_per_proposal"?, "algorithm"?, "acting_user"}`;
the request's result is exactly the HTTP answer of generate-assignments.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import dramatiq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from store import AssignmentRequest, User
from store.enums import FINISHED_REQUEST_STATUSES, RequestKind
from store.lookups import resolve_id
from tasks.errors import ValidationFailed, pydantic_errors
from tasks.generate import MAX_REVIEWERS_PER_PROPOSAL, GenerateResult
from tasks.generate import generate_assignments as generate_use_case
from tasks.request_actors import REQUEST_ACTOR_OPTIONS
from tasks.requests import message_for, process_request, submit_request
from workers.broker import broker

__all__ = ["broker", "enqueue_generate", "generate_assignments", "run_generate_request"]

Id = Annotated[str, Field(min_length=1, max_length=200)]


class GenerateRequestBody(BaseModel):
    """The body of a queued generate-assignments request."""

    model_config = ConfigDict(extra="forbid")

    call: Id
    acting_user: Id
    proposal_uuids: list[Id] | None = Field(default=None, max_length=100_000)
    reviewers_per_proposal: int | None = Field(
        default=None, ge=1, le=MAX_REVIEWERS_PER_PROPOSAL, strict=True
    )
    algorithm: str | None = None


def parse_generate_request(raw: Any) -> GenerateRequestBody:
    """Validate a body; ValidationFailed names every offending field."""
    if not isinstance(raw, dict):
        raise ValidationFailed([{"field": "request", "message": "must be a JSON object"}])
    try:
        return GenerateRequestBody.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(pydantic_errors(exc)) from None


def run_generate_request(raw: Any, *, request_uuid: UUID, now: datetime) -> GenerateResult:
    """The process_request handler: validate, find the acting user, generate."""
    body = parse_generate_request(raw)
    actor = resolve_id(User, body.acting_user)
    if actor is None:
        raise ValidationFailed([{"field": "acting_user", "message": "unknown user"}])
    answer = generate_use_case(
        actor,
        body.call,
        proposal_uuids=body.proposal_uuids,
        reviewers_per_proposal=body.reviewers_per_proposal,
        algorithm=body.algorithm,
        now=now,
    )
    return GenerateResult(answer)


@dramatiq.actor(**REQUEST_ACTOR_OPTIONS)
def generate_assignments(message: dict[str, Any]) -> None:
    """Run one generate-assignments request (see tasks/requests.py for the message)."""
    process_request(RequestKind.GENERATE_ASSIGNMENTS, message, run_generate_request)


def enqueue_generate(
    call: str,
    *,
    acting_user: str,
    proposal_uuids: list[str] | None = None,
    reviewers_per_proposal: int | None = None,
    algorithm: str | None = None,
    idempotency_key: str | None = None,
    requested_by: int | None = None,
) -> AssignmentRequest:
    """Queue a generate-assignments request; the same idempotency key returns the first one.

    Never inside a transaction: the row is committed before the message is sent. A known request
    that has not finished is sent again (harmless: a request runs once).
    """
    body: dict[str, Any] = {"call": call, "acting_user": acting_user}
    optional = {
        "proposal_uuids": proposal_uuids,
        "reviewers_per_proposal": reviewers_per_proposal,
        "algorithm": algorithm,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    request, _created = submit_request(
        RequestKind.GENERATE_ASSIGNMENTS,
        body,
        idempotency_key=idempotency_key,
        requested_by=requested_by,
    )
    if request.status not in FINISHED_REQUEST_STATUSES:
        generate_assignments.send(message_for(request))
    return request
