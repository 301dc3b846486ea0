"""Reading assignment batches as the API does: find one, retrieve one, list with filters.

Visibility (tasks/access.py): staff see everything, a call's managers their calls' batches, a
reviewer their own sent, responded or expired batches; anything else is NotFound. Lists offer the
seeds/000 filters, an ordering `o` among ORDERING_KEYS (`-` for descending; default newest
first; unset dates last ascending, first descending, as PostgreSQL sorts them) and pages of
`page_size` (at most MAX_PAGE_SIZE; None: everything, for internal callers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import AssignmentBatch, Call, Reviewer, ReviewerPoolEntry, User
from store.clock import to_naive_utc
from store.enums import BatchSource, BatchStatus
from store.lookups import as_uuid
from tasks.access import require_batch_visible, visible_batches_condition
from tasks.batches.views import BatchView, batch_view, batch_views
from tasks.errors import MSG_INVALID_UUID, FieldRejected, NotFound, invalid_choice, unknown_ordering
from tasks.rows import find_batch
from tasks.rules import REVIEWER_VISIBLE_BATCHES

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 300
ORDERING_KEYS = {
    "created": AssignmentBatch.created,
    "sent_at": AssignmentBatch.sent_at,
    "expires_at": AssignmentBatch.expires_at,
    "status": AssignmentBatch.status,
}


@dataclass(frozen=True)
class BatchFilters:
    """The list filters of seeds/000; empty tuples mean "any"."""

    call_uuid: str | None = None
    reviewer_pool_entry_uuid: str | None = None
    reviewer_uuid: str | None = None
    sent_after: datetime | None = None
    sent_before: datetime | None = None
    source: Sequence[str] = ()
    status: Sequence[str] = ()


def get_batch(actor: User, batch_uuid: str, now: datetime | None = None) -> BatchView:
    """The batch (with items) `actor` may see; NotFound otherwise."""
    batch = find_batch(batch_uuid)
    require_batch_visible(actor, batch)
    return batch_view(batch, now=now)


def list_batches(
    actor: User,
    filters: BatchFilters = BatchFilters(),
    *,
    ordering: Sequence[str] = (),
    page: int = 1,
    page_size: int | None = DEFAULT_PAGE_SIZE,
    with_items: bool = False,
    now: datetime | None = None,
) -> tuple[list[BatchView], int]:
    """One page of the batches `actor` may see that match `filters`, and their total count.

    Raises FieldRejected naming the field for an invalid uuid, status, source or ordering key.
    """
    query = _filtered(_visible(actor), filters)
    total = query.count()
    query = query.order_by(*_order_by(ordering))
    query = paged(query, page, page_size)
    return batch_views(query, with_items=with_items, now=now), total


def list_own_batches(
    actor: User,
    *,
    page: int = 1,
    page_size: int | None = DEFAULT_PAGE_SIZE,
    now: datetime | None = None,
) -> tuple[list[BatchView], int]:
    """`my-assignment-batches/`: the batches addressed to `actor`'s reviewer profiles that a
    reviewer sees (sent, responded and expired: REVIEWER_VISIBLE_BATCHES), newest sent first,
    with their counts and without their items (Waldur's slim list)."""
    query = _own_batches(actor)
    total = query.count()
    query = query.order_by(AssignmentBatch.sent_at.desc(), AssignmentBatch.id.desc())
    query = paged(query, page, page_size)
    return batch_views(query, with_items=False, now=now), total


def paged(query: Any, page: int, page_size: int | None) -> Any:
    """One page of `query` (page_size None: all of it; above MAX_PAGE_SIZE: clamped)."""
    if page_size is None:
        return query
    return query.paginate(max(page, 1), min(max(page_size, 1), MAX_PAGE_SIZE))


def _batch_ids_with_reviewer() -> Any:
    """Batch ids, joined to their pool entry and reviewer (what visibility and filters read)."""
    return (
        AssignmentBatch.select(AssignmentBatch.id)
        .join(ReviewerPoolEntry, on=(AssignmentBatch.reviewer_pool_entry == ReviewerPoolEntry.id))
        .join(Reviewer, on=(ReviewerPoolEntry.reviewer == Reviewer.id))
    )


def _visible(actor: User) -> Any:
    query = _batch_ids_with_reviewer()
    condition = visible_batches_condition(actor)
    return query if condition is None else query.where(condition)


def _filtered(query: Any, filters: BatchFilters) -> Any:
    if filters.call_uuid is not None:
        call_ids = Call.select(Call.id).where(uuid_or_external(Call, filters.call_uuid))
        query = query.where(AssignmentBatch.call.in_(call_ids))
    if filters.reviewer_pool_entry_uuid is not None:
        parsed = uuid_field("reviewer_pool_entry_uuid", filters.reviewer_pool_entry_uuid)
        query = query.where(ReviewerPoolEntry.uuid == parsed)
    if filters.reviewer_uuid is not None:
        query = query.where(uuid_or_external(Reviewer, filters.reviewer_uuid))
    if filters.sent_after is not None:
        query = query.where(AssignmentBatch.sent_at >= to_naive_utc(filters.sent_after))
    if filters.sent_before is not None:
        query = query.where(AssignmentBatch.sent_at <= to_naive_utc(filters.sent_before))
    if filters.status:
        query = query.where(
            AssignmentBatch.status.in_(choices("status", BatchStatus, filters.status))
        )
    if filters.source:
        query = query.where(
            AssignmentBatch.source.in_(choices("source", BatchSource, filters.source))
        )
    return query


def uuid_field(field: str, value: str) -> Any:
    """`value` as a UUID, or FieldRejected naming `field`."""
    parsed = as_uuid(value)
    if parsed is None:
        raise FieldRejected(field, MSG_INVALID_UUID)
    return parsed


def uuid_or_external(model: Any, value: str) -> Any:
    """A call or reviewer named by uuid or, as every id in reviewq, by external id."""
    parsed = as_uuid(value)
    return model.uuid == parsed if parsed is not None else model.external_id == value


def choices(field: str, enum: Any, values: Sequence[str]) -> list[Any]:
    """`values` as members of `enum`; FieldRejected naming `field` for the first unknown one."""
    try:
        return [enum(value) for value in values]
    except ValueError as exc:
        bad = next(v for v in values if v not in {e.value for e in enum})
        raise FieldRejected(field, invalid_choice(bad)) from exc


def _order_by(ordering: Sequence[str]) -> list[Any]:
    return ordering_clauses(ordering, ORDERING_KEYS, AssignmentBatch)


def ordering_clauses(ordering: Sequence[str], keys: dict[str, Any], model: Any) -> list[Any]:
    """ORDER BY for the `o` values (repeated or, as DRF reads them, comma-separated; `-` for
    descending; unset values last ascending and first descending, as on PostgreSQL), then by
    id; newest first when none is given."""
    wanted = [key.strip() for value in ordering for key in value.split(",") if key.strip()]
    if not wanted:
        return [model.created.desc(), model.id.desc()]
    out = []
    for key in wanted:
        column = keys.get(key.removeprefix("-"))
        if column is None:
            allowed = ", ".join(sorted(keys))
            raise FieldRejected("o", unknown_ordering(key, allowed))
        # where PostgreSQL (and so Django) puts NULL by default: last ascending, first
        # descending; said explicitly so that SQLite sorts the same
        if key.startswith("-"):
            out.append(column.desc(nulls="FIRST"))
        else:
            out.append(column.asc(nulls="LAST"))
    return [*out, model.id.asc()]


def count_batches(actor: User, filters: BatchFilters = BatchFilters()) -> int:
    """How many batches `actor` may see match `filters` (HEAD on the list: the count only)."""
    return int(_filtered(_visible(actor), filters).count())


def count_own_batches(actor: User) -> int:
    """How many batches `list_own_batches` would list in all."""
    return int(_own_batches(actor).count())


def get_own_batch(actor: User, batch_uuid: str, now: datetime | None = None) -> BatchView:
    """`my-assignment-batches/{uuid}/`: one of the batches `list_own_batches` lists, with its
    items; NotFound for any other batch."""
    parsed = as_uuid(batch_uuid)
    query = _own_batches(actor).where(AssignmentBatch.uuid == parsed)
    rows = batch_views(query, with_items=True, now=now) if parsed else []
    if not rows:
        raise NotFound("assignment batch")
    return rows[0]


def _own_batches(actor: User) -> Any:
    return _batch_ids_with_reviewer().where(
        Reviewer.user == actor.id, AssignmentBatch.status.in_(list(REVIEWER_VISIBLE_BATCHES))
    )
