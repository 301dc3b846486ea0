"""Batches and items with everything that is shown of them, read in a constant number of queries.

A list of batches costs, whatever its length, one query for the batches with their call, pool
entry, reviewer and creator, one for the item counts and, with items, one for the items with
their batch, proposal (and its call), review and overrider, and one for their conflict counts.
The rows come back as dataclasses; api/serializers/ turns them into JSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peewee import JOIN, fn

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.clock import utcnow
from store.enums import ItemStatus
from tasks.eligibility import linked_conflict_counts
from tasks.rules import SUMMARY_LEVELS

Overrider = User.alias("overrider")


@dataclass
class ItemCounts:
    """How many items a batch has, in all and per answer."""

    total: int = 0
    pending: int = 0
    accepted: int = 0
    declined: int = 0

    def add(self, status: ItemStatus, n: int) -> None:
        self.total += n
        if status == ItemStatus.PENDING:
            self.pending += n
        elif status == ItemStatus.ACCEPTED:
            self.accepted += n
        elif status == ItemStatus.DECLINED:
            self.declined += n


@dataclass(frozen=True)
class ItemView:
    """An item with its batch (uuid), proposal and its call, review and overrider read, and
    `coi_count`: how many conflict records are linked to it, of any status (as Waldur counts)."""

    item: AssignmentItem
    coi_count: int

    @property
    def summary_for_reviewer(self) -> str:
        """The proposal's summary as the invitation shows it: empty while the item is
        coi_blocked, or when the call discloses no summary."""
        proposal: Proposal = self.item.proposal
        shown = self.item.status != ItemStatus.COI_BLOCKED
        allowed = proposal.call.proposal_disclosure in SUMMARY_LEVELS
        return str(proposal.summary or "") if shown and allowed else ""


@dataclass(frozen=True)
class BatchView:
    """A batch with its call, pool entry, reviewer and creator read, its item counts, whether
    its deadline has passed at the time of reading, and its items (when asked for)."""

    batch: AssignmentBatch
    counts: ItemCounts
    is_expired: bool
    items: list[ItemView] = field(default_factory=list)


def batch_views(query: Any, *, with_items: bool, now: datetime | None = None) -> list[BatchView]:
    """Every batch `query` selects (it selects their ids), in its order, with its items when
    `with_items`. Runs 2 queries after `query` itself, 4 with items."""
    ids = [row.id for row in query]
    if not ids:
        return []
    rows = {batch.id: batch for batch in _batches_with_relations(ids)}
    counts = _item_counts(ids)
    items = _items_by_batch(ids) if with_items else {}
    current = now or utcnow()
    return [
        BatchView(
            batch=rows[batch_id],
            counts=counts[batch_id],
            is_expired=_is_expired(rows[batch_id], current),
            items=items.get(batch_id, []),
        )
        for batch_id in ids
    ]


def batch_view(batch: AssignmentBatch, *, now: datetime | None = None) -> BatchView:
    """One batch with its items."""
    query = AssignmentBatch.select(AssignmentBatch.id).where(AssignmentBatch.id == batch.id)
    return batch_views(query, with_items=True, now=now)[0]


def item_views(ids: list[int]) -> list[ItemView]:
    """These items, in this order, in two queries whatever their number."""
    if not ids:
        return []
    rows = {item.id: item for item in _items_with_relations(AssignmentItem.id.in_(ids))}
    return _with_conflicts([rows[i] for i in ids if i in rows])


def _is_expired(batch: AssignmentBatch, now: datetime) -> bool:
    return batch.expires_at is not None and batch.expires_at < now


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


def _item_counts(ids: list[int]) -> dict[int, ItemCounts]:
    counts: dict[int, ItemCounts] = defaultdict(ItemCounts)
    query = (
        AssignmentItem.select(AssignmentItem.batch, AssignmentItem.status, fn.COUNT(1))
        .where(AssignmentItem.batch.in_(ids))
        .group_by(AssignmentItem.batch, AssignmentItem.status)
        .tuples()
    )
    for batch_id, status, n in query:
        counts[batch_id].add(ItemStatus(status), int(n))
    return counts


def _items_by_batch(ids: list[int]) -> dict[int, list[ItemView]]:
    query = _items_with_relations(AssignmentItem.batch.in_(ids)).order_by(
        AssignmentItem.batch, AssignmentItem.id
    )
    out: dict[int, list[ItemView]] = defaultdict(list)
    for view in _with_conflicts(list(query)):
        out[view.item.batch_id].append(view)
    return out


def _with_conflicts(items: Iterable[AssignmentItem]) -> list[ItemView]:
    rows = list(items)
    conflicts = linked_conflict_counts([item.id for item in rows])
    return [ItemView(item, conflicts.get(item.id, 0)) for item in rows]


def _items_with_relations(condition: Any) -> Any:
    return (
        AssignmentItem.select(
            AssignmentItem,
            AssignmentBatch.id,
            AssignmentBatch.uuid,
            Proposal,
            Call.id,
            Call.proposal_disclosure,
            Review,
            Overrider,
        )
        .join(AssignmentBatch, on=(AssignmentItem.batch == AssignmentBatch.id))
        .switch(AssignmentItem)
        .join(Proposal, on=(AssignmentItem.proposal == Proposal.id))
        .join(Call, on=(Proposal.call == Call.id))
        .switch(AssignmentItem)
        .join(Review, JOIN.LEFT_OUTER, on=(AssignmentItem.review == Review.id))
        .switch(AssignmentItem)
        .join(
            Overrider,
            JOIN.LEFT_OUTER,
            on=(AssignmentItem.override_by == Overrider.id),
            attr="override_by",
        )
        .where(condition)
    )
