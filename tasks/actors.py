"""The actors: thin wrappers that validate a message and call a use case.

`dramatiq tasks.actors` runs every actor of reviewq (this module imports the mail delivery
actor too). Each actor is safe to run twice; see tasks/requests.py for how.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from store.enums import RequestKind, RequestStatus
from tasks.assign_reviews import assign_reviews as assign_reviews_use_case
from tasks.generate_actor import generate_assignments
from tasks.outbox import enqueue_deliveries
from tasks.request_actors import REQUEST_ACTOR_OPTIONS, record_request_failure
from tasks.requests import process_request
from tasks.scheduled_actors import SCHEDULED_QUEUE  # noqa: F401  (registers the scheduler's actors)
from workers.broker import broker
from workers.delivery import deliver_notification

__all__ = [
    "assign_reviews",
    "broker",
    "deliver_notification",
    "generate_assignments",
    "record_request_failure",
]


@dramatiq.actor(**REQUEST_ACTOR_OPTIONS)
def assign_reviews(message: dict[str, Any]) -> None:
    """Run one seeds/004 bulk-assign request (see tasks/requests.py for the message)."""
    outcome = process_request(RequestKind.ASSIGN_REVIEWS, message, assign_reviews_use_case)
    if outcome is not None and outcome.status == RequestStatus.SUCCEEDED:
        enqueue_deliveries(outcome.notification_ids)
