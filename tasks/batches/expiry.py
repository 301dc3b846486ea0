"""Expiry of overdue batches: set-based, in one transaction, whatever the number of batches.

Sent batches whose `expires_at <= now` become `expired` and their pending items `expired`
(domain.md, batch state machine). On PostgreSQL that is ONE statement (two data-modifying
CTEs: batches first, then items, the lock order of store/locks.py); on SQLite, two UPDATEs in
one IMMEDIATE transaction, which serialises writers. Running it twice changes nothing the
second time. It returns the expired items of calls that enable automatic reassignment, for
the caller to enqueue after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store import AssignmentBatch, AssignmentItem, Call, database, write_transaction
from store.db import is_sqlite
from store.enums import BatchStatus, ItemStatus


@dataclass(frozen=True)
class ExpiryResult:
    batches_expired: int
    items_expired: int
    reassign_item_ids: list[int] = field(default_factory=list)


def expire_overdue_batches(now: datetime) -> ExpiryResult:
    """Expire every sent batch past its deadline at `now`, with its pending items; idempotent."""
    with write_transaction():
        return _expire_sqlite(now) if is_sqlite() else _expire_postgres(now)


def _postgres_statement() -> str:
    batch = AssignmentBatch._meta.table_name
    item = AssignmentItem._meta.table_name
    call = Call._meta.table_name
    return f"""
        WITH expired AS (
            UPDATE "{batch}" SET status = %(expired)s, modified = %(now)s
            WHERE status = %(sent)s AND expires_at IS NOT NULL AND expires_at <= %(now)s
            RETURNING id, call_id
        ), items AS (
            UPDATE "{item}" AS i SET status = %(expired)s, modified = %(now)s
            FROM expired AS e
            WHERE i.batch_id = e.id AND i.status = %(pending)s
            RETURNING i.id, e.call_id
        )
        SELECT
            (SELECT count(*) FROM expired),
            (SELECT count(*) FROM items),
            COALESCE((
                SELECT array_agg(items.id ORDER BY items.id)
                FROM items JOIN "{call}" AS c ON c.id = items.call_id
                WHERE c.auto_reassign_on_decline
            ), '{{}}')
    """


def _expire_postgres(now: datetime) -> ExpiryResult:
    params = {
        "now": now,
        "sent": BatchStatus.SENT.value,
        "expired": BatchStatus.EXPIRED.value,
        "pending": ItemStatus.PENDING.value,
    }
    cursor = database.execute_sql(_postgres_statement(), params)
    batches, items, reassign = cursor.fetchone()
    return ExpiryResult(int(batches), int(items), [int(i) for i in reassign])


def _overdue(now: datetime) -> Any:
    """Sent batches past their deadline at `now`."""
    return (
        (AssignmentBatch.status == BatchStatus.SENT)
        & AssignmentBatch.expires_at.is_null(False)
        & (AssignmentBatch.expires_at <= now)
    )


def overdue_counts(now: datetime) -> tuple[int, int]:
    """What `expire_overdue_batches(now)` would expire: (batches, their pending items); reads
    only (`reviewq scheduler run-once expire_batches --dry-run`)."""
    overdue = AssignmentBatch.select(AssignmentBatch.id).where(_overdue(now))
    items = AssignmentItem.select().where(
        AssignmentItem.status == ItemStatus.PENDING, AssignmentItem.batch.in_(overdue)
    )
    return int(overdue.count()), int(items.count())


def _expire_sqlite(now: datetime) -> ExpiryResult:
    expired = (
        AssignmentBatch.update(status=BatchStatus.EXPIRED, modified=now)
        .where(_overdue(now))
        .returning(AssignmentBatch.id, AssignmentBatch.call)
        .tuples()
    )
    call_of = dict(expired.execute())
    if not call_of:
        return ExpiryResult(0, 0)
    # The IMMEDIATE transaction holds the write lock, so "pending items of expired batches" are
    # exactly the items of the batches expired just now (no other writer ran in between).
    expired_batches = AssignmentBatch.select(AssignmentBatch.id).where(
        AssignmentBatch.status == BatchStatus.EXPIRED
    )
    items = (
        AssignmentItem.update(status=ItemStatus.EXPIRED, modified=now)
        .where(
            AssignmentItem.status == ItemStatus.PENDING,
            AssignmentItem.batch.in_(expired_batches),
        )
        .returning(AssignmentItem.id, AssignmentItem.batch)
        .tuples()
    )
    rows = list(items.execute())
    auto = _auto_reassign_calls(set(call_of.values()))
    reassign = sorted(item_id for item_id, batch_id in rows if call_of.get(batch_id) in auto)
    return ExpiryResult(len(call_of), len(rows), reassign)


def _auto_reassign_calls(call_ids: set[int]) -> set[int]:
    query = Call.select(Call.id).where(Call.auto_reassign_on_decline == True)  # noqa: E712
    return {call_id for (call_id,) in query.tuples() if call_id in call_ids}
