"""What runs the body of each kind of queued request: (raw body, *, request_uuid, now) -> a
StoredAnswer (tasks/results.py): the answer stored in the request, and the mail to deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from store import User
from store.enums import RequestKind
from store.lookups import resolve_id
from tasks.batches.generate import generate_assignments as generate_use_case
from tasks.bulk.assign import assign_reviews
from tasks.errors import ValidationFailed
from tasks.messages import parse_generate_request
from tasks.requests.lifecycle import Handler
from tasks.results import Generated


def run_generate_request(raw: Any, *, request_uuid: UUID, now: datetime) -> Generated:
    """Validate a generate-assignments body, find the acting user, generate."""
    body = parse_generate_request(raw)
    acting = resolve_id(User, body.acting_user)
    if acting is None:
        raise ValidationFailed([{"field": "acting_user", "message": "unknown user"}])
    return generate_use_case(
        acting,
        body.call,
        proposal_uuids=body.proposal_uuids,
        reviewers_per_proposal=body.reviewers_per_proposal,
        algorithm=body.algorithm,
        now=now,
    )


HANDLERS: dict[RequestKind, Handler] = {
    RequestKind.ASSIGN_REVIEWS: assign_reviews,
    RequestKind.GENERATE_ASSIGNMENTS: run_generate_request,
}
