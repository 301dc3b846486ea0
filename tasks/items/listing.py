"""Assignment items as the API offers them: list with filters, retrieve (the writes, edit and
delete, are in tasks/items/answers.py).

Visibility is the batches' (tasks/access.py): an item is seen by whoever may see its batch;
anything else is NotFound. Lists offer the filters of `ItemFilters`, an ordering `o` among
ORDERING_KEYS (`-` for descending; default newest first; unset values last ascending, first
descending, as PostgreSQL sorts them) and pages of `page_size` (at most MAX_PAGE_SIZE), in a
constant number of queries whatever the page size: the count, the page's ids, the items with
their relations, their conflict counts.

The items come back as tasks.batches.views.ItemView rows; api/serializers/items.py turns
them into the JSON of the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    Proposal,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.enums import ItemStatus
from tasks.access import require_batch_visible, visible_batches_condition
from tasks.batches.listing import (
    DEFAULT_PAGE_SIZE,
    ordering_clauses,
    paged,
    uuid_field,
    uuid_or_external,
)
from tasks.batches.views import ItemView, item_views
from tasks.errors import FieldRejected, invalid_choice
from tasks.rows import find_item

ORDERING_KEYS = {
    "affinity_score": AssignmentItem.affinity_score,
    "created": AssignmentItem.created,
    "status": AssignmentItem.status,
    "responded_at": AssignmentItem.responded_at,
}


@dataclass(frozen=True)
class ItemFilters:
    """The list filters of /api/assignment-items/; None and empty tuples mean "any"."""

    batch_uuid: str | None = None
    call_uuid: str | None = None
    proposal_uuid: str | None = None
    reviewer_uuid: str | None = None
    status: Sequence[str] = ()
    has_coi: bool | None = None
    min_affinity_score: float | None = None


def get_item(actor: User, item_uuid: str) -> ItemView:
    """An item `actor` may see (its batch is visible to them); NotFound otherwise."""
    item = find_item(item_uuid)
    require_batch_visible(actor, AssignmentBatch.get_by_id(item.batch_id))
    return item_views([item.id])[0]


def list_items(
    actor: User,
    filters: ItemFilters = ItemFilters(),
    *,
    ordering: Sequence[str] = (),
    page: int = 1,
    page_size: int | None = DEFAULT_PAGE_SIZE,
) -> tuple[list[ItemView], int]:
    """One page of the items `actor` may see that match `filters`, and their total count.

    Raises FieldRejected naming the field for an invalid uuid, status or ordering key.
    """
    query = _filtered(_visible(actor), filters)
    total = query.count()
    query = query.order_by(*_order_by(ordering))
    ids = [row.id for row in paged(query, page, page_size)]
    return item_views(ids), total


def count_items(actor: User, filters: ItemFilters = ItemFilters()) -> int:
    """How many items `actor` may see match `filters` (HEAD on the list)."""
    return int(_filtered(_visible(actor), filters).count())


def _visible(actor: User) -> Any:
    """Item ids limited to what `actor` sees: staff need no join at all (a count over the
    item table alone); anyone else's visibility reads the batch, pool entry and reviewer."""
    query = AssignmentItem.select(AssignmentItem.id)
    condition = visible_batches_condition(actor)
    if condition is None:
        return query
    return _with_reviewer(
        query.join(AssignmentBatch, on=(AssignmentItem.batch == AssignmentBatch.id))
    ).where(condition)


def _with_reviewer(query: Any) -> Any:
    return query.join(
        ReviewerPoolEntry, on=(AssignmentBatch.reviewer_pool_entry == ReviewerPoolEntry.id)
    ).join(Reviewer, on=(ReviewerPoolEntry.reviewer == Reviewer.id))


def _filtered(query: Any, filters: ItemFilters) -> Any:
    """The filters as subqueries on the item's own columns, so none needs a join."""
    batches = _batches_matching(filters)
    if batches is not None:
        query = query.where(AssignmentItem.batch.in_(batches))
    if filters.proposal_uuid is not None:
        proposal_ids = Proposal.select(Proposal.id).where(
            Proposal.uuid == uuid_field("proposal_uuid", filters.proposal_uuid)
        )
        query = query.where(AssignmentItem.proposal.in_(proposal_ids))
    if filters.status:
        query = query.where(AssignmentItem.status.in_(_statuses(filters.status)))
    if filters.has_coi is not None:
        query = query.where(AssignmentItem.has_coi == filters.has_coi)
    if filters.min_affinity_score is not None:
        query = query.where(AssignmentItem.affinity_score >= filters.min_affinity_score)
    return query


def _batches_matching(filters: ItemFilters) -> Any | None:
    """The ids of the batches the batch, call and reviewer filters allow; None: any."""
    if filters.batch_uuid is None and filters.call_uuid is None and filters.reviewer_uuid is None:
        return None
    query = AssignmentBatch.select(AssignmentBatch.id)
    if filters.batch_uuid is not None:
        query = query.where(AssignmentBatch.uuid == uuid_field("batch_uuid", filters.batch_uuid))
    if filters.call_uuid is not None:
        call_ids = Call.select(Call.id).where(uuid_or_external(Call, filters.call_uuid))
        query = query.where(AssignmentBatch.call.in_(call_ids))
    if filters.reviewer_uuid is not None:
        reviewer = uuid_or_external(Reviewer, filters.reviewer_uuid)
        query = _with_reviewer(query).where(reviewer)
    return query


def _statuses(values: Sequence[str]) -> list[ItemStatus]:
    allowed = {status.value for status in ItemStatus}
    for value in values:
        if value not in allowed:
            raise FieldRejected("status", invalid_choice(value))
    return [ItemStatus(value) for value in values]


def _order_by(ordering: Sequence[str]) -> list[Any]:
    return ordering_clauses(ordering, ORDERING_KEYS, AssignmentItem)
