"""What every queued-request actor shares: its queue, its retry policy, and the callback that
records a request whose retries ran out."""

from __future__ import annotations

from typing import Any

import dramatiq

from tasks.errors import RequestFailedInternally
from tasks.requests import record_gave_up
from workers.broker import broker

ASSIGNMENT_QUEUE = "assignments"
REQUEST_MAX_RETRIES = 12

__all__ = ["ASSIGNMENT_QUEUE", "REQUEST_ACTOR_OPTIONS", "broker", "record_request_failure"]


@dramatiq.actor(queue_name=ASSIGNMENT_QUEUE, max_retries=0)
def record_request_failure(message_data: dict[str, Any], retry_data: dict[str, Any]) -> None:
    """on_retry_exhausted callback: the request kept failing; record that on the request."""
    args = message_data.get("args") or [None]
    record_gave_up(args[0], RequestFailedInternally())


#: The options of every actor that runs a queued request (tasks/requests.py).
REQUEST_ACTOR_OPTIONS: dict[str, Any] = {
    "queue_name": ASSIGNMENT_QUEUE,
    "max_retries": REQUEST_MAX_RETRIES,
    "on_retry_exhausted": record_request_failure.actor_name,
}
