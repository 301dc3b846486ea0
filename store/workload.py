"""Workload ("open assignments", domain.md) of any number of reviewers in one query."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from peewee import JOIN, fn

from store.batches import AssignmentBatch, AssignmentItem
from store.calls import Proposal, ReviewerPoolEntry
from store.compiled import CompiledQuery, among
from store.enums import BatchStatus, ItemStatus, ReviewState
from store.reviews import Review

# Above this many ids the IN list is dropped and the aggregate filtered in Python instead:
# SQLite caps bound parameters, and one grouped scan beats a huge list anyway.
MAX_IN_LIST = 5_000


def workloads(
    reviewer_ids: Collection[int] | None = None, *, call_id: int | None = None
) -> dict[int, int]:
    """Open assignments per reviewer id, within `call_id` if given, else across all calls.

    Counts pending items of draft or sent batches plus reviews the reviewer holds `in_review`.
    An accepted item's review is held by its reviewer in `in_review`, so it is counted once,
    through the review. Reviewers with nothing open are absent from the result unless asked for.
    """
    ids = None if reviewer_ids is None else set(reviewer_ids)
    if ids is not None and call_id is None:
        # the hot path (bulk assignment): one statement of constant text (store/compiled.py)
        found = dict(_OF_REVIEWERS.tuples(reviewers=sorted(ids)))
        return {r: int(found.get(r, 0)) for r in ids}
    in_sql = ids if ids is not None and len(ids) <= MAX_IN_LIST else None
    open_work = _open_work(call_id, in_sql).alias("open_work")
    query = (
        Review.select(open_work.c.rid, fn.COUNT(open_work.c.rid).alias("n"))
        .from_(open_work)
        .group_by(open_work.c.rid)
        .tuples()
    )
    counts = {int(r): int(n) for r, n in query}
    if ids is None:
        return counts
    return {r: counts.get(r, 0) for r in ids}


def _open_work(
    call_id: int | None, reviewer_ids: Collection[int] | None, *, slotted: bool = False
) -> Any:
    """One row (`rid`) per open assignment, of these reviewers (the slot `reviewers` when
    `slotted`) and within `call_id` if given."""
    rid = ReviewerPoolEntry.reviewer.alias("rid")
    items = (
        AssignmentItem.select(rid)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(
            AssignmentItem.status == ItemStatus.PENDING,
            AssignmentBatch.status.in_([BatchStatus.DRAFT, BatchStatus.SENT]),
        )
    )
    reviews = Review.select(Review.reviewer.alias("rid")).where(
        Review.state == ReviewState.IN_REVIEW, Review.reviewer.is_null(False)
    )
    if call_id is not None:
        items = items.where(AssignmentBatch.call == call_id)
        reviews = reviews.join(Proposal, JOIN.INNER).where(Proposal.call == call_id)
    if slotted:
        items = items.where(among(ReviewerPoolEntry.reviewer, "reviewers"))
        reviews = reviews.where(among(Review.reviewer, "reviewers"))
    elif reviewer_ids is not None:
        items = items.where(ReviewerPoolEntry.reviewer.in_(list(reviewer_ids)))
        reviews = reviews.where(Review.reviewer.in_(list(reviewer_ids)))
    return items + reviews


def _of_reviewers() -> Any:
    open_work = _open_work(None, None, slotted=True).alias("open_work")
    return (
        Review.select(open_work.c.rid, fn.COUNT(open_work.c.rid).alias("n"))
        .from_(open_work)
        .group_by(open_work.c.rid)
    )


_OF_REVIEWERS = CompiledQuery(_of_reviewers)
