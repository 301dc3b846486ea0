"""The seeds/000 JSON of assignment batches and items, field for field.

Lists are built with a constant number of queries whatever their length: one for the batches
with their call, pool entry, reviewer and creator, one for the item counts, and, with items,
one for the items with their proposal and review and one for their conflict counts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from peewee import JOIN, fn

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ConflictOfInterest,
    ItemConflict,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.clock import isoformat_z, utcnow
from store.enums import BLOCKING_COI_STATUSES, BatchSource, BatchStatus, ItemStatus
from tasks.mail.outbox import public_url

BATCH_STATUS_LABELS = {
    BatchStatus.DRAFT: "Draft",
    BatchStatus.SENT: "Sent",
    BatchStatus.RESPONDED: "Responded",
    BatchStatus.EXPIRED: "Expired",
    BatchStatus.CANCELLED: "Cancelled",
}
BATCH_SOURCE_LABELS = {BatchSource.ALGORITHM: "Algorithm", BatchSource.MANUAL: "Manual"}
ITEM_STATUS_LABELS = {
    ItemStatus.PENDING: "Pending",
    ItemStatus.ACCEPTED: "Accepted",
    ItemStatus.DECLINED: "Declined",
    ItemStatus.EXPIRED: "Expired",
    ItemStatus.REASSIGNED: "Reassigned",
    ItemStatus.COI_BLOCKED: "COI blocked",
}
COUNTED_ITEM_STATUSES = {
    ItemStatus.PENDING: "items_pending_count",
    ItemStatus.ACCEPTED: "items_accepted_count",
    ItemStatus.DECLINED: "items_declined_count",
}


def api_url(collection: str, uuid: object) -> str:
    """The absolute API url of a record: `PUBLIC_URL/api/<collection>/<uuid>/`."""
    return f"{public_url()}/api/{collection}/{uuid}/"


def batches_json(
    query: Any, *, with_items: bool, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The JSON of every batch `query` selects, in its order (list form, or retrieve form with
    `items` when `with_items`). Runs 2 queries after `query` itself, 4 with items."""
    ids = [row.id for row in query]
    if not ids:
        return []
    rows = {batch.id: batch for batch in _batches_with_relations(ids)}
    counts = _item_counts(ids)
    items = _items_by_batch(ids) if with_items else {}
    current = now or utcnow()
    out = []
    for batch_id in ids:
        body = _batch_json(rows[batch_id], counts[batch_id], current)
        if with_items:
            body = _with_items(body, items.get(batch_id, []))
        out.append(body)
    return out


def batch_json(batch: AssignmentBatch, *, now: datetime | None = None) -> dict[str, Any]:
    """The retrieve form (with `items`) of one batch."""
    query = AssignmentBatch.select(AssignmentBatch.id).where(AssignmentBatch.id == batch.id)
    return batches_json(query, with_items=True, now=now)[0]


def _batches_with_relations(ids: list[int]) -> Any:
    return (
        AssignmentBatch.select(AssignmentBatch, Call, ReviewerPoolEntry, Reviewer, User)
        .join(Call, on=(AssignmentBatch.call == Call.id))
        .switch(AssignmentBatch)
        .join(ReviewerPoolEntry, on=(AssignmentBatch.reviewer_pool_entry == ReviewerPoolEntry.id))
        .join(Reviewer, on=(ReviewerPoolEntry.reviewer == Reviewer.id))
        .switch(AssignmentBatch)
        .join(User, JOIN.LEFT_OUTER, on=(AssignmentBatch.created_by == User.id))
        .where(AssignmentBatch.id.in_(ids))
    )


def _item_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: {"items_count": 0, **dict.fromkeys(COUNTED_ITEM_STATUSES.values(), 0)}
    )
    query = (
        AssignmentItem.select(AssignmentItem.batch, AssignmentItem.status, fn.COUNT(1))
        .where(AssignmentItem.batch.in_(ids))
        .group_by(AssignmentItem.batch, AssignmentItem.status)
        .tuples()
    )
    for batch_id, status, n in query:
        counts[batch_id]["items_count"] += int(n)
        key = COUNTED_ITEM_STATUSES.get(ItemStatus(status))
        if key:
            counts[batch_id][key] += int(n)
    return counts


def _batch_json(batch: AssignmentBatch, counts: dict[str, int], now: datetime) -> dict[str, Any]:
    call, entry, creator = batch.call, batch.reviewer_pool_entry, batch.created_by
    reviewer = entry.reviewer
    return {
        "url": api_url("assignment-batches", batch.uuid),
        "uuid": str(batch.uuid),
        "call": api_url("proposal-protected-calls", call.uuid),
        "call_uuid": str(call.uuid),
        "call_name": call.name,
        "reviewer_pool_entry": api_url("proposal-reviewer-pool-entries", entry.uuid),
        "reviewer_pool_entry_uuid": str(entry.uuid),
        "reviewer_name": reviewer.name,
        "reviewer_email": reviewer.email,
        "reviewer_uuid": str(reviewer.uuid),
        "status": batch.status.value,
        "status_display": BATCH_STATUS_LABELS[batch.status],
        "sent_at": isoformat_z(batch.sent_at),
        "expires_at": isoformat_z(batch.expires_at),
        "responded_at": isoformat_z(batch.responded_at),
        "source": batch.source.value,
        "source_display": BATCH_SOURCE_LABELS[batch.source],
        "created_by": api_url("users", creator.uuid) if creator else None,
        "created_by_name": (creator.full_name or creator.username) if creator else "",
        "manager_notes": batch.manager_notes,
        **counts,
        "is_expired": batch.expires_at is not None and batch.expires_at < now,
        "created": isoformat_z(batch.created),
    }


def _with_items(body: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """`items` placed where seeds/000 lists it: after manager_notes, before the counts."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "items_count":
            out["items"] = items
        out[key] = value
    return out


def _items_by_batch(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    query = (
        AssignmentItem.select(
            AssignmentItem, AssignmentBatch.id, AssignmentBatch.uuid, Proposal, Review
        )
        .join(AssignmentBatch, on=(AssignmentItem.batch == AssignmentBatch.id))
        .switch(AssignmentItem)
        .join(Proposal, on=(AssignmentItem.proposal == Proposal.id))
        .switch(AssignmentItem)
        .join(Review, JOIN.LEFT_OUTER, on=(AssignmentItem.review == Review.id))
        .where(AssignmentItem.batch.in_(ids))
        .order_by(AssignmentItem.batch, AssignmentItem.id)
    )
    items = list(query)
    conflicts = blocking_conflict_counts([item.id for item in items])
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        out[item.batch_id].append(item_json(item, coi_count=conflicts.get(item.id, 0)))
    return out


def blocking_conflict_counts(item_ids: list[int]) -> dict[int, int]:
    """item id -> how many of its linked conflict records still block it (pending, recused)."""
    if not item_ids:
        return {}
    query = (
        ItemConflict.select(ItemConflict.item, fn.COUNT(1))
        .join(ConflictOfInterest)
        .where(
            ItemConflict.item.in_(item_ids),
            ConflictOfInterest.status.in_(list(BLOCKING_COI_STATUSES)),
        )
        .group_by(ItemConflict.item)
        .tuples()
    )
    return {int(item_id): int(n) for item_id, n in query}


def item_json(item: AssignmentItem, *, coi_count: int) -> dict[str, Any]:
    """The seeds/000 JSON of one item; `item.batch`, `.proposal` and `.review` are read, so
    select them with the item (a join) when building many. `coi_count` counts the linked
    conflict records that still block (pending or recused)."""
    proposal, review = item.proposal, item.review
    return {
        "url": api_url("assignment-items", item.uuid),
        "uuid": str(item.uuid),
        "batch": api_url("assignment-batches", item.batch.uuid),
        "proposal": api_url("proposal-proposals", proposal.uuid),
        "proposal_uuid": str(proposal.uuid),
        "proposal_name": proposal.name,
        "proposal_slug": proposal.slug,
        "status": item.status.value,
        "status_display": ITEM_STATUS_LABELS[item.status],
        "affinity_score": item.affinity_score,
        "has_coi": bool(item.has_coi),
        "coi_count": coi_count,
        "responded_at": isoformat_z(item.responded_at),
        "decline_reason": item.decline_reason,
        "review": api_url("proposal-reviews", review.uuid) if review else None,
        "review_uuid": str(review.uuid) if review else None,
        "reassign_count": item.reassign_count,
        "created": isoformat_z(item.created),
    }
