"""Creating assignment batches and their items, the one way every path does it.

Generate, manual assignment and reassignment all end here, inside the caller's
`write_transaction`, after the caller locked what its capacity check read. An item whose
(reviewer, proposal) has a blocking conflict of interest (pending or recused) is created
`coi_blocked` with `has_coi` and links to those conflict records; the others are `pending`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from store import AssignmentBatch, AssignmentItem, ItemConflict, ReviewerPoolEntry
from store.enums import BatchSource, BatchStatus, ItemStatus
from tasks.eligibility import Pair, blocking_pairs, id_chunks, reviewer_conflict_ids

#: rows per bulk INSERT statement
BULK_ROWS = 500


@dataclass(frozen=True)
class PlannedItem:
    """One proposal to put in a batch."""

    proposal_id: int
    affinity_score: float | None = None
    reassigned_from_id: int | None = None
    reassign_count: int = 0


def open_draft(
    pool_entry: ReviewerPoolEntry,
    *,
    source: BatchSource,
    created_by_id: int | None,
    manager_notes: str = "",
) -> AssignmentBatch:
    """The pool entry's draft batch of this source, created if it has none: never two drafts
    of one source for one pool entry (the caller holds the lock that makes this true)."""
    existing = existing_draft(pool_entry, source)
    if existing is not None:
        return existing
    return new_batch(
        pool_entry, source=source, created_by_id=created_by_id, manager_notes=manager_notes
    )


def existing_draft(pool_entry: ReviewerPoolEntry, source: BatchSource) -> AssignmentBatch | None:
    """The pool entry's oldest draft batch of this source, if it has one."""
    return (
        AssignmentBatch.select()
        .where(
            AssignmentBatch.reviewer_pool_entry == pool_entry.id,
            AssignmentBatch.status == BatchStatus.DRAFT,
            AssignmentBatch.source == source,
        )
        .order_by(AssignmentBatch.id)
        .first()
    )


def new_batch(
    pool_entry: ReviewerPoolEntry,
    *,
    source: BatchSource,
    created_by_id: int | None,
    manager_notes: str = "",
) -> AssignmentBatch:
    return AssignmentBatch.create(
        call=pool_entry.call_id,
        reviewer_pool_entry=pool_entry.id,
        source=source,
        created_by=created_by_id,
        manager_notes=manager_notes,
    )


def add_items(
    batch: AssignmentBatch, reviewer_id: int, planned: Sequence[PlannedItem]
) -> list[AssignmentItem]:
    """Insert the planned items into `batch`; returns them in input order.

    Proposals the batch already holds are skipped (unique (batch, proposal)).
    """
    held = {
        p
        for (p,) in AssignmentItem.select(AssignmentItem.proposal)
        .where(AssignmentItem.batch == batch.id)
        .tuples()
    }
    todo = [p for p in planned if p.proposal_id not in held]
    if not todo:
        return []
    conflicts = reviewer_conflict_ids(reviewer_id, [p.proposal_id for p in todo])
    items = []
    for plan in todo:
        blocked = plan.proposal_id in conflicts
        item = AssignmentItem.create(
            batch=batch.id,
            proposal=plan.proposal_id,
            status=ItemStatus.COI_BLOCKED if blocked else ItemStatus.PENDING,
            has_coi=blocked,
            affinity_score=plan.affinity_score,
            reassigned_from=plan.reassigned_from_id,
            reassign_count=plan.reassign_count,
        )
        if blocked:
            ItemConflict.insert_many(
                [{"item": item.id, "conflict": coi_id} for coi_id in conflicts[plan.proposal_id]]
            ).execute()
        items.append(item)
    return items


@dataclass(frozen=True)
class BulkItem:
    """One (pool entry, proposal) pair to write as an item of the entry's draft."""

    entry: ReviewerPoolEntry
    proposal_id: int
    affinity_score: float | None = None


def add_items_bulk(
    planned: Sequence[BulkItem], *, source: BatchSource, created_by_id: int | None
) -> tuple[int, int]:
    """Write the planned pairs, in bulk, as items of one `source` draft per pool entry; returns
    (batches created, items created).

    The oldest draft of that source a pool entry has is reused, as `open_draft` picks it; only
    entries without one get a new batch. Like `add_items`, a pair with a blocking COI becomes a
    `coi_blocked` item with `has_coi`, linked to its conflict records. The caller holds the
    locks and guarantees the pairs are new (unique (batch, proposal)).
    """
    entry_ids = {p.entry.id for p in planned}
    drafts = _drafts_of(entry_ids, source)
    new = sorted(
        {p.entry.id: p.entry for p in planned if p.entry.id not in drafts}.values(), key=_id
    )
    rows = [_batch_row(e, source, created_by_id) for e in new]
    for start in range(0, len(rows), BULK_ROWS):
        AssignmentBatch.insert_many(rows[start : start + BULK_ROWS]).execute()
    drafts = _drafts_of(entry_ids, source)
    blocked = blocking_pairs({(p.entry.reviewer_id, p.proposal_id) for p in planned})
    items = [
        _item_row(drafts[p.entry.id], p, (p.entry.reviewer_id, p.proposal_id) in blocked)
        for p in planned
    ]
    for start in range(0, len(items), BULK_ROWS):
        AssignmentItem.insert_many(items[start : start + BULK_ROWS]).execute()
    entries = {p.entry.reviewer_id: p.entry for p in planned}
    _link_conflicts(drafts, entries, blocked)
    return len(new), len(items)


def _id(entry: ReviewerPoolEntry) -> int:
    return int(entry.id)


def _batch_row(
    entry: ReviewerPoolEntry, source: BatchSource, created_by_id: int | None
) -> dict[str, Any]:
    return {
        "call": entry.call_id,
        "reviewer_pool_entry": entry.id,
        "source": source,
        "created_by": created_by_id,
    }


def _item_row(batch_id: int, plan: BulkItem, blocked: bool) -> dict[str, Any]:
    return {
        "batch": batch_id,
        "proposal": plan.proposal_id,
        "status": ItemStatus.COI_BLOCKED if blocked else ItemStatus.PENDING,
        "has_coi": blocked,
        "affinity_score": plan.affinity_score,
    }


def _drafts_of(entry_ids: set[int], source: BatchSource) -> dict[int, int]:
    """pool entry id -> id of its oldest draft of `source` (the one `open_draft` picks)."""
    found: dict[int, int] = {}
    for chunk in id_chunks(sorted(entry_ids)):
        query = (
            AssignmentBatch.select(AssignmentBatch.reviewer_pool_entry, AssignmentBatch.id)
            .where(
                AssignmentBatch.reviewer_pool_entry.in_(chunk),
                AssignmentBatch.status == BatchStatus.DRAFT,
                AssignmentBatch.source == source,
            )
            .order_by(AssignmentBatch.id.desc())
        )
        found.update(dict(query.tuples()))  # descending: the oldest is written last and wins
    return found


def _link_conflicts(
    drafts: dict[int, int], entries: dict[int, ReviewerPoolEntry], blocked: dict[Pair, list[int]]
) -> None:
    for (reviewer, prop), coi_ids in blocked.items():
        item = AssignmentItem.get(
            AssignmentItem.batch == drafts[entries[reviewer].id], AssignmentItem.proposal == prop
        )
        ItemConflict.insert_many([{"item": item.id, "conflict": c} for c in coi_ids]).execute()
