"""The actors: thin wrappers that validate a message and call a use case.

`dramatiq tasks.actors` runs every actor of reviewq (this module imports the mail delivery
actor too). Each actor is safe to run twice; see tasks/requests.py for how.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from store.enums import RequestKind, RequestStatus
from tasks.assign_reviews import assign_reviews as assign_reviews_use_case
from tasks.errors import RequestFailedInternally
from tasks.outbox import enqueue_deliveries
from tasks.requests import process_request, record_gave_up
from workers.broker import broker
from workers.delivery import deliver_notification

ASSIGNMENT_QUEUE = "assignments"

__all__ = ["assign_reviews", "broker", "deliver_notification", "record_request_failure"]


@dramatiq.actor(queue_name=ASSIGNMENT_QUEUE, max_retries=0)
def record_request_failure(message_data: dict[str, Any], retry_data: dict[str, Any]) -> None:
    """on_retry_exhausted callback: the request kept failing; record that on the request."""
    args = message_data.get("args") or [None]
    record_gave_up(args[0], RequestFailedInternally())


@dramatiq.actor(
    queue_name=ASSIGNMENT_QUEUE,
    max_retries=12,
    on_retry_exhausted=record_request_failure.actor_name,
)
def assign_reviews(message: dict[str, Any]) -> None:
    """Run one seeds/004 bulk-assign request (see tasks/requests.py for the message)."""
    outcome = process_request(RequestKind.ASSIGN_REVIEWS, message, assign_reviews_use_case)
    if outcome is not None and outcome.status == RequestStatus.SUCCEEDED:
        enqueue_deliveries(outcome.notification_ids)
