"""What the store says about who may review what: conflicts, held proposals, affinities,
and the exclusions and current reviewers generate-assignments plans with."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from matching import ExclusionKind
from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ConflictOfInterest,
    Review,
    ReviewerPoolEntry,
)
from store.calls import Affinity
from store.enums import BLOCKING_COI_STATUSES, BatchStatus, ItemStatus, ReviewState

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


OPEN_BATCH_STATUSES = (BatchStatus.DRAFT, BatchStatus.SENT)
HOLDING_REVIEW_STATES = (ReviewState.IN_REVIEW, ReviewState.SUBMITTED)


def id_chunks(values: Sequence[int], size: int = 1000) -> list[list[int]]:
    """`values` cut into lists of at most `size`, for `IN (...)` lists of bounded length."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def current_reviewers(proposal_ids: Sequence[int]) -> dict[int, set[int]]:
    """proposal id -> reviewers it already has: pending items of open batches, accepted items,
    reviews held in review or submitted."""
    found: dict[int, set[int]] = defaultdict(set)
    if not proposal_ids:
        return found
    items = (
        AssignmentItem.select(AssignmentItem.proposal, ReviewerPoolEntry.reviewer)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(
            AssignmentItem.proposal.in_(list(proposal_ids)),
            (
                (AssignmentItem.status == ItemStatus.PENDING)
                & AssignmentBatch.status.in_(list(OPEN_BATCH_STATUSES))
            )
            | (AssignmentItem.status == ItemStatus.ACCEPTED),
        )
    )
    reviews = Review.select(Review.proposal, Review.reviewer).where(
        Review.proposal.in_(list(proposal_ids)),
        Review.reviewer.is_null(False),
        Review.state.in_(list(HOLDING_REVIEW_STATES)),
    )
    for proposal_id, reviewer_id in list(items.tuples()) + list(reviews.tuples()):
        found[proposal_id].add(reviewer_id)
    return found


def excluded_pairs(call: Call, proposal_ids: Sequence[int]) -> dict[Pair, ExclusionKind]:
    """(reviewer, proposal) pairs generate must not propose, with why: a blocking COI, a
    decline, or any item (any status, any batch) or non-empty review for that proposal."""
    ids = list(proposal_ids)
    out: dict[Pair, ExclusionKind] = {}
    items = (
        AssignmentItem.select(
            ReviewerPoolEntry.reviewer, AssignmentItem.proposal, AssignmentItem.status
        )
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(AssignmentBatch.call == call.id, AssignmentItem.proposal.in_(ids))
    )
    for reviewer_id, proposal_id, status in items.tuples():
        declined = ItemStatus(status) == ItemStatus.DECLINED
        if out.get((reviewer_id, proposal_id)) != ExclusionKind.DECLINED:
            kind = ExclusionKind.DECLINED if declined else ExclusionKind.HAS_ITEM
            out[(reviewer_id, proposal_id)] = kind
    reviews = Review.select(Review.reviewer, Review.proposal).where(
        Review.proposal.in_(ids),
        Review.reviewer.is_null(False),
        Review.state != ReviewState.UNASSIGNED,
    )
    for pair in reviews.tuples():
        out.setdefault(pair, ExclusionKind.HAS_ITEM)
    conflicts = ConflictOfInterest.select(
        ConflictOfInterest.reviewer, ConflictOfInterest.proposal
    ).where(
        ConflictOfInterest.proposal.in_(ids),
        ConflictOfInterest.status.in_(list(BLOCKING_COI_STATUSES)),
    )
    for pair in conflicts.tuples():
        out[pair] = ExclusionKind.CONFLICT
    return out


def blocking_pairs(pairs: set[Pair]) -> dict[Pair, list[int]]:
    """Of these (reviewer, proposal) pairs, those with blocking COIs -> the COI record ids."""
    found: dict[Pair, list[int]] = defaultdict(list)
    proposals = sorted({prop for _, prop in pairs})
    for chunk in id_chunks(proposals):
        query = ConflictOfInterest.select(
            ConflictOfInterest.reviewer, ConflictOfInterest.proposal, ConflictOfInterest.id
        ).where(
            ConflictOfInterest.proposal.in_(chunk),
            ConflictOfInterest.status.in_(list(BLOCKING_COI_STATUSES)),
        )
        for reviewer, prop, coi in query.tuples():
            if (reviewer, prop) in pairs:
                found[(reviewer, prop)].append(coi)
    return dict(found)
