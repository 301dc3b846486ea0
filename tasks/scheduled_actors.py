"""The actors the scheduler enqueues (queue `scheduled`): thin wrappers over the use cases.

Every message is `{"ids": [int, ...], "now": ISO-8601, ...}`: the records the scheduler found
and the instant its clock read. Each actor re-checks under locks, writes in one transaction,
and hands the outbox rows to `enqueue_deliveries` after the commit, so it is safe to run twice.
An actor acts at the later of the message's `now` and the real clock: a backlog never sends a
reminder after the deadline, and an injected clock ahead of the real one (tests, `run-once`)
still counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dramatiq
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from store import write_transaction
from store.clock import to_naive_utc, utcnow
from tasks.outbox import enqueue_deliveries
from tasks.reassignment import auto_reassign_expired
from tasks.reminders import (
    write_batch_reminders,
    write_expiry_notices,
    write_review_deadline_reminders,
)
from workers.broker import broker  # noqa: F401  (actors need the broker set first)

SCHEDULED_QUEUE = "scheduled"
MAX_IDS_PER_MESSAGE = 1000
MAX_RETRIES = 12


class InvalidScheduledMessageError(ValueError):
    """The message is not `{"ids": [...], "now": ...}`: retrying cannot help."""


class IdsMessage(BaseModel):
    """Records found by one scheduler job, and the instant its clock read."""

    model_config = ConfigDict(extra="forbid")

    ids: list[StrictInt] = Field(min_length=1, max_length=MAX_IDS_PER_MESSAGE)
    now: datetime
    within_days: float | None = Field(default=None, ge=0)

    def acting_time(self) -> datetime:
        return max(to_naive_utc(self.now), utcnow())


def ids_message(ids: list[int], now: datetime, **extra: Any) -> dict[str, Any]:
    """The JSON-safe message for these ids at `now`."""
    return IdsMessage(ids=ids, now=now, **extra).model_dump(mode="json", exclude_none=True)


def parse_message(message: Any) -> IdsMessage:
    """The validated message, or InvalidScheduledMessageError naming the fields at fault."""
    try:
        return IdsMessage.model_validate(message)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) or "message" for e in exc.errors()})
        raise InvalidScheduledMessageError(f"invalid scheduled message: {fields}") from exc


def _actor(fn: Any) -> Any:
    return dramatiq.actor(
        queue_name=SCHEDULED_QUEUE,
        max_retries=MAX_RETRIES,
        throws=(InvalidScheduledMessageError,),
    )(fn)


@_actor
def send_batch_reminders(message: dict[str, Any]) -> None:
    """Write the reminder of each batch still due (tasks.reminders.write_batch_reminders)."""
    parsed = parse_message(message)
    with write_transaction():
        outbox_ids = write_batch_reminders(parsed.ids, parsed.acting_time())
    enqueue_deliveries(outbox_ids)


@_actor
def notify_expired_batches(message: dict[str, Any]) -> None:
    """Tell the managers about each expired batch not notified yet."""
    parsed = parse_message(message)
    with write_transaction():
        outbox_ids = write_expiry_notices(parsed.ids, parsed.acting_time())
    enqueue_deliveries(outbox_ids)


@_actor
def remind_reviewers_of_deadlines(message: dict[str, Any]) -> None:
    """Remind reviewers of reviews due within `within_days`, once per review and deadline."""
    parsed = parse_message(message)
    within = timedelta(days=parsed.within_days if parsed.within_days is not None else 3)
    with write_transaction():
        outbox_ids = write_review_deadline_reminders(parsed.ids, parsed.acting_time(), within)
    enqueue_deliveries(outbox_ids)


@_actor
def reassign_expired_items(message: dict[str, Any]) -> None:
    """Reassign expired items of calls that enable automatic reassignment.

    `auto_reassign_expired` commits item by item (no lock held across items), so it runs
    outside any transaction here, and the invitations go out after its last commit.
    """
    parsed = parse_message(message)
    outbox_ids = auto_reassign_expired(list(parsed.ids), now=parsed.acting_time())
    enqueue_deliveries(outbox_ids)
