"""What the store says about who may review what: conflicts, held proposals, affinities."""

from __future__ import annotations

from collections.abc import Collection

from store import AssignmentBatch, AssignmentItem, ConflictOfInterest, Review, ReviewerPoolEntry
from store.calls import Affinity
from store.enums import BLOCKING_COI_STATUSES, ItemStatus, ReviewState

Pair = tuple[int, int]  # (reviewer id, proposal id)


def blocking_conflicts(reviewer_ids: Collection[int], proposal_ids: Collection[int]) -> set[Pair]:
    """(reviewer, proposal) pairs with a pending or recused conflict of interest."""
    query = ConflictOfInterest.select(
        ConflictOfInterest.reviewer, ConflictOfInterest.proposal
    ).where(
        ConflictOfInterest.reviewer.in_(list(reviewer_ids)),
        ConflictOfInterest.proposal.in_(list(proposal_ids)),
        ConflictOfInterest.status.in_(list(BLOCKING_COI_STATUSES)),
    )
    return {(r, p) for r, p in query.tuples()}


def held_proposals(reviewer_ids: Collection[int], proposal_ids: Collection[int]) -> set[Pair]:
    """(reviewer, proposal) pairs where the reviewer already reviews or is invited to review it."""
    reviews = Review.select(Review.reviewer, Review.proposal).where(
        Review.reviewer.in_(list(reviewer_ids)),
        Review.proposal.in_(list(proposal_ids)),
        Review.state != ReviewState.UNASSIGNED,
    )
    items = (
        AssignmentItem.select(ReviewerPoolEntry.reviewer, AssignmentItem.proposal)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(
            ReviewerPoolEntry.reviewer.in_(list(reviewer_ids)),
            AssignmentItem.proposal.in_(list(proposal_ids)),
            AssignmentItem.status.in_([ItemStatus.PENDING, ItemStatus.ACCEPTED]),
        )
    )
    return {(r, p) for r, p in reviews.tuples()} | {(r, p) for r, p in items.tuples()}


def affinity_scores(
    reviewer_ids: Collection[int], proposal_ids: Collection[int]
) -> dict[Pair, float]:
    """Known affinity per (reviewer, proposal); pairs without a row are absent."""
    query = Affinity.select(Affinity.reviewer, Affinity.proposal, Affinity.score).where(
        Affinity.reviewer.in_(list(reviewer_ids)), Affinity.proposal.in_(list(proposal_ids))
    )
    return {(r, p): float(s) for r, p, s in query.tuples()}
