"""Every actor of reviewq: thin wrappers that validate a message and call a use case.

`dramatiq workers.broker:install tasks.actors` runs them all (the mail delivery actors of
workers/delivery.py included). Each actor is safe to run twice: a queued request runs once in
effect (tasks/requests/lifecycle.py), a scheduler message re-checks under locks, and outbox rows
are handed to `enqueue_deliveries` only after the commit that wrote them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from store import write_transaction
from store.enums import RequestKind, RequestStatus
from tasks.errors import RequestFailedInternally
from tasks.items.reassign import auto_reassign_expired
from tasks.mail.outbox import enqueue_deliveries
from tasks.mail.reminders import (
    write_batch_reminders,
    write_expiry_notices,
    write_review_deadline_reminders,
)
from tasks.messages import InvalidScheduledMessageError, parse_ids_message, parse_request_message
from tasks.requests.handlers import HANDLERS
from tasks.requests.lifecycle import process_request, record_gave_up
from workers.broker import actor, retry_transient
from workers.delivery import deliver_notification, deliver_notifications
from workers.redis_keys import ASSIGNMENT_QUEUE, SCHEDULED_QUEUE

__all__ = [
    "assign_reviews",
    "deliver_notification",
    "deliver_notifications",
    "generate_assignments",
    "notify_expired_batches",
    "reassign_expired_items",
    "record_request_failure",
    "remind_reviewers_of_deadlines",
    "send_batch_reminders",
]

REQUEST_MAX_RETRIES = 12
SCHEDULED_MAX_RETRIES = 12
DEFAULT_DEADLINE_WITHIN_DAYS = 3


@actor(queue_name=ASSIGNMENT_QUEUE, max_retries=0)
def record_request_failure(message_data: dict[str, Any], retry_data: dict[str, Any]) -> None:
    """on_retry_exhausted callback: the request kept failing; record that on the request."""
    args = message_data.get("args") or [None]
    record_gave_up(args[0], RequestFailedInternally())


#: The options of every actor that runs a queued request.
REQUEST_ACTOR_OPTIONS: dict[str, Any] = {
    "queue_name": ASSIGNMENT_QUEUE,
    "max_retries": REQUEST_MAX_RETRIES,
    "retry_when": retry_transient(REQUEST_MAX_RETRIES),
    "on_retry_exhausted": record_request_failure.actor_name,
}
#: The options of every actor the scheduler enqueues.
SCHEDULED_ACTOR_OPTIONS: dict[str, Any] = {
    "queue_name": SCHEDULED_QUEUE,
    "max_retries": SCHEDULED_MAX_RETRIES,
    "retry_when": retry_transient(SCHEDULED_MAX_RETRIES),
    "throws": (InvalidScheduledMessageError,),
}


@actor(**REQUEST_ACTOR_OPTIONS)
def assign_reviews(*args: Any, **kwargs: Any) -> None:
    """Run one seeds/004 bulk-assign request (one message, tasks/messages.py); its e-mail goes
    out after the commit. Any arguments are accepted, so that wrong ones are recorded on a
    request row as VALIDATION_ERROR rather than retried."""
    kind = RequestKind.ASSIGN_REVIEWS
    outcome = process_request(kind, parse_request_message(args, kwargs), HANDLERS[kind])
    if outcome is not None and outcome.status == RequestStatus.SUCCEEDED:
        enqueue_deliveries(outcome.notification_ids)


@actor(**REQUEST_ACTOR_OPTIONS)
def generate_assignments(*args: Any, **kwargs: Any) -> None:
    """Run one generate-assignments request (drafts only: no e-mail); arguments as
    `assign_reviews`."""
    kind = RequestKind.GENERATE_ASSIGNMENTS
    process_request(kind, parse_request_message(args, kwargs), HANDLERS[kind])


@actor(**SCHEDULED_ACTOR_OPTIONS)
def send_batch_reminders(message: dict[str, Any]) -> None:
    """Write the reminder of each batch still due (tasks.mail.reminders.write_batch_reminders)."""
    parsed = parse_ids_message(message)
    with write_transaction():
        outbox_ids = write_batch_reminders(parsed.ids, parsed.acting_time())
    enqueue_deliveries(outbox_ids)


@actor(**SCHEDULED_ACTOR_OPTIONS)
def notify_expired_batches(message: dict[str, Any]) -> None:
    """Tell the managers about each expired batch not notified yet."""
    parsed = parse_ids_message(message)
    with write_transaction():
        outbox_ids = write_expiry_notices(parsed.ids, parsed.acting_time())
    enqueue_deliveries(outbox_ids)


@actor(**SCHEDULED_ACTOR_OPTIONS)
def remind_reviewers_of_deadlines(message: dict[str, Any]) -> None:
    """Remind reviewers of reviews due within `within_days`, once per review and deadline."""
    parsed = parse_ids_message(message)
    days = parsed.within_days if parsed.within_days is not None else DEFAULT_DEADLINE_WITHIN_DAYS
    with write_transaction():
        outbox_ids = write_review_deadline_reminders(
            parsed.ids, parsed.acting_time(), timedelta(days=days)
        )
    enqueue_deliveries(outbox_ids)


@actor(**SCHEDULED_ACTOR_OPTIONS)
def reassign_expired_items(message: dict[str, Any]) -> None:
    """Reassign expired items of calls that enable automatic reassignment.

    `auto_reassign_expired` commits item by item (no lock held across items), so it runs
    outside any transaction here, and the invitations go out after its last commit.
    """
    parsed = parse_ids_message(message)
    outbox_ids = auto_reassign_expired(list(parsed.ids), now=parsed.acting_time())
    enqueue_deliveries(outbox_ids)
