"""What a Python producer calls: record the request, then enqueue it (never in a transaction)."""

from __future__ import annotations

from typing import Any

from store import AssignmentRequest
from store.enums import FINISHED_REQUEST_STATUSES, RequestKind
from tasks.actors import assign_reviews
from tasks.requests import message_for, submit_request


def enqueue_assign_reviews(
    body: Any, *, idempotency_key: str | None = None, requested_by: int | None = None
) -> AssignmentRequest:
    """Queue a seeds/004 request; the same idempotency key returns the first request.

    A known request that has not finished is sent again: harmless, since the actor runs a
    request once, and it recovers a send that was lost after the row was written.
    """
    request, _created = submit_request(
        RequestKind.ASSIGN_REVIEWS, body, idempotency_key=idempotency_key, requested_by=requested_by
    )
    if request.status not in FINISHED_REQUEST_STATUSES:
        assign_reviews.send(message_for(request))
    return request
