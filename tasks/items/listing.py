"""Assignment items as the API offers them: list with filters, retrieve, edit, delete.

Visibility is the batches' (tasks/access.py): an item is seen by whoever may see its batch;
anything else is NotFound. Lists offer the filters of `ItemFilters`, an ordering `o` among
ORDERING_KEYS (`-` for descending; default newest first; unset values last in either
direction) and pages of `page_size` (at most MAX_PAGE_SIZE), in a constant number of queries
whatever the page size: the count, the page's ids, the items with their relations, their
conflict counts.

The item JSON is seeds/000's (tasks/batch_json.item_json) plus what the published client's
AssignmentItem model requires besides: `override_reason`, `overridden_by_name`,
`overridden_at`, and a `review_uuid` that is always a UUID (NIL_UUID while no review exists:
the client parses it with `UUID(...)` and rejects null).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ItemConflict,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
    write_transaction,
)
from store.clock import isoformat_z, utcnow
from store.enums import BatchStatus, ItemStatus
from store.locks import locked
from store.lookups import find_by_uuid
from tasks.access import (
    require_batch_visible,
    require_manager,
    require_reviewer,
    visible_batches_condition,
)
from tasks.batches.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ordering_clauses,
    uuid_field,
    uuid_or_external,
)
from tasks.batches.wire import blocking_conflict_counts, item_json
from tasks.errors import FieldRejected, NotFound, RuleViolation
from tasks.items.reassign import lock_item
from tasks.results import ActionResult

NIL_UUID = "00000000-0000-0000-0000-000000000000"
ORDERING_KEYS = {
    "affinity_score": AssignmentItem.affinity_score,
    "created": AssignmentItem.created,
    "status": AssignmentItem.status,
    "responded_at": AssignmentItem.responded_at,
}
# An item may be deleted only before its invitation is live and while it records no answer:
# in a draft or cancelled batch, pending or coi_blocked. Accepted items are a review's history;
# declined, expired and reassigned ones are what keeps a decliner from getting the proposal
# back and the reassignment chain counted.
DELETABLE_BATCH_STATUSES = (BatchStatus.DRAFT, BatchStatus.CANCELLED)
DELETABLE_ITEM_STATUSES = (ItemStatus.PENDING, ItemStatus.COI_BLOCKED)
MSG_ITEM_DELETE_NOT_ALLOWED = (
    "Only pending or COI-blocked items of draft or cancelled batches can be deleted."
)
MSG_ONLY_DECLINED_EDITABLE = "Only declined assignments have a decline reason to edit."
Overrider = User.alias("overrider")


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


def find_item(item_uuid: str) -> AssignmentItem:
    """The item with this uuid, or NotFound."""
    item = find_by_uuid(AssignmentItem, item_uuid)
    if item is None:
        raise NotFound("assignment item")
    return item


def get_item(actor: User, item_uuid: str) -> dict[str, Any]:
    """The JSON of an item `actor` may see (its batch is visible to them); NotFound otherwise."""
    item = find_item(item_uuid)
    require_batch_visible(actor, AssignmentBatch.get_by_id(item.batch_id))
    return items_json([item.id])[0]


def list_items(
    actor: User,
    filters: ItemFilters = ItemFilters(),
    *,
    ordering: Sequence[str] = (),
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the items `actor` may see that match `filters`, and their total count.

    Raises FieldRejected naming the field for an invalid uuid, status or ordering key.
    """
    query = _filtered(_visible(actor), filters)
    total = query.count()
    query = query.order_by(*_order_by(ordering))
    size = min(max(page_size, 1), MAX_PAGE_SIZE)
    ids = [row.id for row in query.paginate(max(page, 1), size)]
    return items_json(ids), total


def count_items(actor: User, filters: ItemFilters = ItemFilters()) -> int:
    """How many items `actor` may see match `filters` (HEAD on the list)."""
    return int(_filtered(_visible(actor), filters).count())


def delete_item(actor: User, item_uuid: str) -> ActionResult:
    """DELETE (204, a call manager): remove a pending or coi_blocked item of a draft or
    cancelled batch, with its conflict links; the batch stays, even empty. Anything else is
    refused with MSG_ITEM_DELETE_NOT_ALLOWED and nothing changes. A reviewer gets Forbidden,
    anyone else NotFound. Not idempotent: a second delete is NotFound."""
    with write_transaction():
        found = find_item(item_uuid)
        batch = locked(AssignmentBatch.select().where(AssignmentBatch.id == found.batch_id)).first()
        if batch is None:
            raise NotFound("assignment item")
        item = lock_item(found.id)
        require_manager(actor, batch)
        if batch.status not in DELETABLE_BATCH_STATUSES or (
            item.status not in DELETABLE_ITEM_STATUSES
        ):
            raise RuleViolation(MSG_ITEM_DELETE_NOT_ALLOWED)
        ItemConflict.delete().where(ItemConflict.item == item.id).execute()
        AssignmentItem.delete().where(AssignmentItem.id == item.id).execute()
    return ActionResult({})


def edit_decline_reason(actor: User, item_uuid: str, decline_reason: str | None) -> ActionResult:
    """PUT/PATCH (the batch's reviewer): correct the reason of their declined item, the one
    writable field (None, a PATCH without it, changes nothing). A manager gets Forbidden,
    anyone else NotFound; an item that is not declined is refused with
    MSG_ONLY_DECLINED_EDITABLE. Answers the item JSON. Idempotent."""
    with write_transaction():
        found = find_item(item_uuid)
        batch = locked(AssignmentBatch.select().where(AssignmentBatch.id == found.batch_id)).get()
        item = lock_item(found.id)
        require_reviewer(actor, batch)
        if decline_reason is not None:
            if item.status != ItemStatus.DECLINED:
                raise RuleViolation(MSG_ONLY_DECLINED_EDITABLE)
            AssignmentItem.update(decline_reason=decline_reason, modified=utcnow()).where(
                AssignmentItem.id == item.id
            ).execute()
        body = items_json([item.id])[0]
    return ActionResult(body)


def items_json(ids: list[int]) -> list[dict[str, Any]]:
    """The JSON of these items, in this order, in two queries whatever their number."""
    if not ids:
        return []
    rows = {item.id: item for item in _items_with_relations(ids)}
    conflicts = blocking_conflict_counts(ids)
    return [_item_json(rows[i], conflicts.get(i, 0)) for i in ids if i in rows]


def _item_json(item: AssignmentItem, coi_count: int) -> dict[str, Any]:
    body = item_json(item, coi_count=coi_count)
    if body["review_uuid"] is None:
        body["review_uuid"] = NIL_UUID
    overrider = item.override_by
    body["override_reason"] = item.override_reason
    body["overridden_by_name"] = (overrider.full_name or overrider.username) if overrider else ""
    body["overridden_at"] = isoformat_z(item.override_at)
    return body


def _items_with_relations(ids: list[int]) -> Any:
    return (
        AssignmentItem.select(
            AssignmentItem, AssignmentBatch.id, AssignmentBatch.uuid, Proposal, Review, Overrider
        )
        .join(AssignmentBatch, on=(AssignmentItem.batch == AssignmentBatch.id))
        .switch(AssignmentItem)
        .join(Proposal, on=(AssignmentItem.proposal == Proposal.id))
        .switch(AssignmentItem)
        .join(Review, JOIN.LEFT_OUTER, on=(AssignmentItem.review == Review.id))
        .switch(AssignmentItem)
        .join(
            Overrider,
            JOIN.LEFT_OUTER,
            on=(AssignmentItem.override_by == Overrider.id),
            attr="override_by",
        )
        .where(AssignmentItem.id.in_(ids))
    )


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
            raise FieldRejected(
                "status", f"Select a valid choice. {value} is not one of the available choices."
            )
    return [ItemStatus(value) for value in values]


def _order_by(ordering: Sequence[str]) -> list[Any]:
    return ordering_clauses(ordering, ORDERING_KEYS, AssignmentItem)
