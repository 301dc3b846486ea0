"""Creating assignment batches and their items, the one way every path does it.

Generate, manual assignment and reassignment all end here, inside the caller's
`write_transaction`, after the caller locked what its capacity check read. An item whose
(reviewer, proposal) has a blocking conflict of interest (pending or recused) is created
`coi_blocked` with `has_coi` and links to those conflict records; the others are `pending`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from store import (
    AssignmentBatch,
    AssignmentItem,
    ConflictOfInterest,
    ItemConflict,
    ReviewerPoolEntry,
)
from store.enums import BLOCKING_COI_STATUSES, BatchSource, BatchStatus, ItemStatus


@dataclass(frozen=True)
class PlannedItem:
    """One proposal to put in a batch."""

    proposal_id: int
    affinity_score: float | None = None
    reassigned_from_id: int | None = None
    reassign_count: int = 0


def blocking_conflict_ids(reviewer_id: int, proposal_ids: Sequence[int]) -> dict[int, list[int]]:
    """proposal id -> ids of the blocking conflict records between it and the reviewer."""
    query = ConflictOfInterest.select(ConflictOfInterest.proposal, ConflictOfInterest.id).where(
        ConflictOfInterest.reviewer == reviewer_id,
        ConflictOfInterest.proposal.in_(list(proposal_ids)),
        ConflictOfInterest.status.in_(list(BLOCKING_COI_STATUSES)),
    )
    found: dict[int, list[int]] = defaultdict(list)
    for proposal_id, coi_id in query.tuples():
        found[proposal_id].append(coi_id)
    return dict(found)


def open_draft(
    pool_entry: ReviewerPoolEntry,
    *,
    source: BatchSource,
    created_by_id: int | None,
    manager_notes: str = "",
) -> AssignmentBatch:
    """The pool entry's draft batch of this source, created if it has none: never two drafts
    of one source for one pool entry (the caller holds the lock that makes this true)."""
    existing = (
        AssignmentBatch.select()
        .where(
            AssignmentBatch.reviewer_pool_entry == pool_entry.id,
            AssignmentBatch.status == BatchStatus.DRAFT,
            AssignmentBatch.source == source,
        )
        .order_by(AssignmentBatch.id)
        .first()
    )
    if existing is not None:
        return existing
    return new_batch(
        pool_entry, source=source, created_by_id=created_by_id, manager_notes=manager_notes
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
    conflicts = blocking_conflict_ids(reviewer_id, [p.proposal_id for p in todo])
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
