"""What a Python producer calls: record the request, then enqueue it (never in a transaction).

The same idempotency key returns the first request. A known request that has not finished is
sent again: harmless, since a request runs once, and it recovers a send that was lost after the
row was written.
"""

from __future__ import annotations

from typing import Any

import redis
from dramatiq.errors import BrokerError

from store import AssignmentRequest
from store.enums import FINISHED_REQUEST_STATUSES, RequestKind
from tasks.actors import assign_reviews, generate_assignments
from tasks.errors import BrokerUnavailable
from tasks.messages import message_for
from tasks.requests.lifecycle import submit_request
from workers.broker import LazyActor

ACTORS: dict[RequestKind, LazyActor[..., None]] = {
    RequestKind.ASSIGN_REVIEWS: assign_reviews,
    RequestKind.GENERATE_ASSIGNMENTS: generate_assignments,
}


def enqueue_request(
    kind: RequestKind,
    body: Any,
    *,
    idempotency_key: str | None = None,
    requested_by: int | None = None,
) -> AssignmentRequest:
    """Record a request of `kind` and send its message once the row is committed.

    Raises BrokerUnavailable when the message cannot reach Redis; the request row stays
    `queued`, and a retry with the same idempotency key sends it again.
    """
    request, _created = submit_request(
        kind, body, idempotency_key=idempotency_key, requested_by=requested_by
    )
    if request.status not in FINISHED_REQUEST_STATUSES:
        try:
            ACTORS[kind].send(message_for(request))
        except (redis.RedisError, BrokerError) as exc:
            raise BrokerUnavailable() from exc
    return request


def enqueue_assign_reviews(
    body: Any, *, idempotency_key: str | None = None, requested_by: int | None = None
) -> AssignmentRequest:
    """Queue a seeds/004 request."""
    return enqueue_request(
        RequestKind.ASSIGN_REVIEWS, body, idempotency_key=idempotency_key, requested_by=requested_by
    )


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
    """Queue a generate-assignments request (tasks/messages.py's GenerateRequestBody)."""
    body: dict[str, Any] = {"call": call, "acting_user": acting_user}
    optional = {
        "proposal_uuids": proposal_uuids,
        "reviewers_per_proposal": reviewers_per_proposal,
        "algorithm": algorithm,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return enqueue_request(
        RequestKind.GENERATE_ASSIGNMENTS,
        body,
        idempotency_key=idempotency_key,
        requested_by=requested_by,
    )
