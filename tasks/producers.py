"""What a Python producer calls: record the request, then enqueue it (never in a transaction);
and the redrive of requests whose message was lost.

The same idempotency key returns the first request. A known request that has not finished is
sent again: harmless, since a request runs once, and it recovers a send that was lost after the
row was written.

`redrive_requests` (the scheduler's job of the same name) sends again every request still
`queued`, or `running`, some time after it was written or started, that has no live message:
none of the messages waiting, delayed or being worked on in the `assignments` queue names it
(by request id or idempotency key; workers/admin.py's `live_messages`). A request whose worker
was SIGKILLed still has a live message (in the dead worker's ack set, until the broker's
maintenance requeues it), so it is left to the broker; one whose message never reached Redis,
or was lost with a Redis that keeps nothing on disk, is sent again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import redis
from dramatiq.errors import BrokerError

from store import AssignmentRequest
from store.enums import FINISHED_REQUEST_STATUSES, RequestKind, RequestStatus
from tasks.actors import assign_reviews, generate_assignments
from tasks.errors import BrokerUnavailable
from tasks.messages import message_for, refs_of, request_refs
from tasks.requests.lifecycle import submit_request
from workers.admin import live_messages
from workers.broker import LazyActor, get_broker
from workers.redis_keys import ASSIGNMENT_QUEUE

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


def redrive_requests(now: datetime, older_than: timedelta, *, limit: int = 1000) -> int:
    """Send again each unfinished request with no live message (module docstring) that was
    written, or started, at least `older_than` before `now`; returns how many were sent."""
    due = now - older_than
    waiting = (AssignmentRequest.status == RequestStatus.QUEUED) & (
        AssignmentRequest.created <= due
    )
    running = (AssignmentRequest.status == RequestStatus.RUNNING) & (
        AssignmentRequest.started_at <= due
    )
    candidates = list(
        AssignmentRequest.select()
        .where(waiting | running)
        .order_by(AssignmentRequest.id)
        .limit(limit)
    )
    if not candidates:
        return 0
    live: set[str] = set()
    for message in live_messages(get_broker(), ASSIGNMENT_QUEUE):
        live |= request_refs(message.args)
    orphans = [r.id for r in candidates if not refs_of(r) & live]
    sent = 0
    # Read again after Redis: a request that finished meanwhile (and was acknowledged) is done.
    for request in AssignmentRequest.select().where(
        AssignmentRequest.id.in_(orphans),
        AssignmentRequest.status.not_in(list(FINISHED_REQUEST_STATUSES)),
    ):
        ACTORS[request.kind].send(message_for(request))
        sent += 1
    return sent
