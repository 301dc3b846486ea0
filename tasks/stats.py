"""What the system holds, counted by status in one set-based statement each: the figures of
`reviewq stats` and of the web process's `/metrics`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import fn

from store import (
    AssignmentBatch,
    AssignmentRequest,
    Call,
    ConflictOfInterest,
    Notification,
    Proposal,
    ReviewerPoolEntry,
)
from store.base import BaseModel
from store.clock import utcnow
from store.enums import NotificationStatus


def by_status(model: type[BaseModel]) -> dict[str, int]:
    """Rows of `model` per status value (a GROUP BY on its `status` column)."""
    status = model.status
    rows = model.select(status, fn.COUNT(model.id)).group_by(status).tuples()
    return {str(getattr(value, "value", value)): int(n) for value, n in rows}


def requests_by_kind_and_status() -> dict[tuple[str, str], int]:
    query = (
        AssignmentRequest.select(
            AssignmentRequest.kind, AssignmentRequest.status, fn.COUNT(AssignmentRequest.id)
        )
        .group_by(AssignmentRequest.kind, AssignmentRequest.status)
        .tuples()
    )
    return {(kind.value, status.value): int(n) for kind, status, n in query}


def oldest_pending_notification_age(now: datetime | None = None) -> float:
    """Seconds since the oldest e-mail still waiting in the outbox was written (0 when none)."""
    oldest = (
        Notification.select(Notification.created)
        .where(Notification.status == NotificationStatus.PENDING)
        .order_by(Notification.created)
        .first()
    )  # a row, not MIN(): SQLite would answer MIN() as text
    if oldest is None:
        return 0.0
    return max(0.0, ((now or utcnow()) - oldest.created).total_seconds())


@dataclass(frozen=True)
class StoreCounts:
    batches: dict[str, int]
    requests: dict[tuple[str, str], int]
    notifications: dict[str, int]
    oldest_pending_notification_seconds: float


def store_counts() -> StoreCounts:
    return StoreCounts(
        batches=by_status(AssignmentBatch),
        requests=requests_by_kind_and_status(),
        notifications=by_status(Notification),
        oldest_pending_notification_seconds=oldest_pending_notification_age(),
    )


@dataclass(frozen=True)
class CallCounts:
    proposals: dict[str, int]
    pool: dict[str, int]
    batches: dict[str, int]
    conflicts: dict[str, int]


def _grouped(model: type[BaseModel], column: Any, condition: Any) -> dict[str, int]:
    rows = model.select(column, fn.COUNT(model.id)).where(condition).group_by(column).tuples()
    return {str(getattr(value, "value", value)): int(n) for value, n in rows}


def call_counts(call: Call) -> CallCounts:
    """A call's proposals by state, pool entries by invitation, batches and conflicts by status."""
    return CallCounts(
        proposals=_grouped(Proposal, Proposal.state, Proposal.call == call.id),
        pool=_grouped(
            ReviewerPoolEntry,
            ReviewerPoolEntry.invitation_status,
            ReviewerPoolEntry.call == call.id,
        ),
        batches=_grouped(AssignmentBatch, AssignmentBatch.status, AssignmentBatch.call == call.id),
        conflicts=_grouped(
            ConflictOfInterest, ConflictOfInterest.status, ConflictOfInterest.call == call.id
        ),
    )
