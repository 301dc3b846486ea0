"""Reading a call's reviewer pool (`/api/call-reviewer-pools/`, the call's `reviewer-pool/`):
what a batch's `reviewer_pool_entry` links to.

Visibility (tasks/access.py): staff and a call's managers see its whole pool, a reviewer their
own entries (their invitations); anything else is NotFound. A page is read in a constant
number of queries: the count, the entries with their reviewer, call and users, then the
workloads, conflict counts and review counts of the page's reviewers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN, fn

from store import Call, Proposal, Review, Reviewer, ReviewerPoolEntry, User
from store.enums import InvitationStatus, ReviewState
from store.lookups import as_uuid
from store.workload import workloads
from tasks.access import own_reviewer_ids, visible_pool_entries_condition
from tasks.batches.listing import (
    DEFAULT_PAGE_SIZE,
    choices,
    ordering_clauses,
    paged,
    uuid_field,
)
from tasks.eligibility import conflict_counts_by_severity
from tasks.errors import NotFound

ORDERING_KEYS = {"created": ReviewerPoolEntry.created, "invited_at": ReviewerPoolEntry.created}


@dataclass(frozen=True)
class PoolFilters:
    """The list filters; None and empty tuples mean "any"."""

    call_uuid: str | None = None
    reviewer_uuid: str | None = None
    invitation_status: Sequence[str] = ()
    my_invitations: bool = False


@dataclass(frozen=True)
class PoolEntryView:
    """A pool entry with its reviewer, call and the figures Waldur's pool serializer shows."""

    entry: ReviewerPoolEntry
    current_assignments: int = 0
    coi_by_severity: dict[str, int] = field(default_factory=dict)
    reviews_in_progress: int = 0
    reviews_completed: int = 0

    @property
    def coi_count(self) -> int:
        return sum(self.coi_by_severity.values())


def _selected() -> Any:
    invited_by = User.alias("invited_by")
    account = User.alias("account")
    return (
        ReviewerPoolEntry.select(ReviewerPoolEntry, Reviewer, Call, account, invited_by)
        .join(Reviewer, on=(ReviewerPoolEntry.reviewer == Reviewer.id))
        .join(account, JOIN.LEFT_OUTER, on=(Reviewer.user == account.id))
        .switch(ReviewerPoolEntry)
        .join(Call, on=(ReviewerPoolEntry.call == Call.id))
        .switch(ReviewerPoolEntry)
        .join(invited_by, JOIN.LEFT_OUTER, on=(ReviewerPoolEntry.invited_by == invited_by.id))
    )


def _visible(actor: User) -> Any:
    condition = visible_pool_entries_condition(actor)
    query = _selected()
    return query if condition is None else query.where(condition)


def get_pool_entry(actor: User, entry_uuid: str) -> PoolEntryView:
    """The pool entry `actor` may see, with its figures; NotFound otherwise."""
    parsed = as_uuid(entry_uuid)
    entry = _visible(actor).where(ReviewerPoolEntry.uuid == parsed).first() if parsed else None
    if entry is None:
        raise NotFound("reviewer pool entry")
    return pool_entry_views([entry])[0]


def list_pool_entries(
    actor: User,
    filters: PoolFilters = PoolFilters(),
    *,
    ordering: Sequence[str] = (),
    page: int = 1,
    page_size: int | None = DEFAULT_PAGE_SIZE,
) -> tuple[list[PoolEntryView], int]:
    """One page of the pool entries `actor` may see that match `filters`, and their count.
    FieldRejected names a bad uuid, invitation status or ordering key."""
    query = _visible(actor)
    if filters.call_uuid is not None:
        query = query.where(Call.uuid == uuid_field("call_uuid", filters.call_uuid))
    if filters.reviewer_uuid is not None:
        query = query.where(Reviewer.uuid == uuid_field("reviewer_uuid", filters.reviewer_uuid))
    if filters.invitation_status:
        wanted = choices("invitation_status", InvitationStatus, filters.invitation_status)
        query = query.where(ReviewerPoolEntry.invitation_status.in_(wanted))
    if filters.my_invitations:
        query = query.where(ReviewerPoolEntry.reviewer.in_(own_reviewer_ids(actor)))
    total = int(query.count())
    query = query.order_by(*ordering_clauses(ordering, ORDERING_KEYS, ReviewerPoolEntry))
    return pool_entry_views(list(paged(query, page, page_size))), total


def pool_entry_views(entries: list[ReviewerPoolEntry]) -> list[PoolEntryView]:
    """These entries with their figures, in three queries per call on the page."""
    by_call: dict[int, list[int]] = defaultdict(list)
    for entry in entries:
        by_call[entry.call_id].append(entry.reviewer_id)
    load: dict[tuple[int, int], int] = {}
    for call_id, reviewer_ids in by_call.items():
        for reviewer_id, n in workloads(reviewer_ids, call_id=call_id).items():
            load[(call_id, reviewer_id)] = n
    pairs = {(e.call_id, e.reviewer_id) for e in entries}
    conflicts = conflict_counts_by_severity(pairs)
    reviews = _review_counts(pairs)
    return [
        PoolEntryView(
            entry,
            current_assignments=load.get((entry.call_id, entry.reviewer_id), 0),
            coi_by_severity=conflicts.get((entry.call_id, entry.reviewer_id), {}),
            reviews_in_progress=reviews.get(
                (entry.call_id, entry.reviewer_id, ReviewState.IN_REVIEW), 0
            ),
            reviews_completed=reviews.get(
                (entry.call_id, entry.reviewer_id, ReviewState.SUBMITTED), 0
            ),
        )
        for entry in entries
    ]


def _review_counts(pairs: set[tuple[int, int]]) -> dict[tuple[int, int, str], int]:
    """(call id, reviewer id, review state) -> how many reviews, for these pairs."""
    if not pairs:
        return {}
    call_ids = list({c for c, _ in pairs})
    reviewer_ids = list({r for _, r in pairs})
    query = (
        Review.select(Proposal.call, Review.reviewer, Review.state, fn.COUNT(Review.id))
        .join(Proposal)
        .where(Proposal.call.in_(call_ids), Review.reviewer.in_(reviewer_ids))
        .group_by(Proposal.call, Review.reviewer, Review.state)
        .tuples()
    )
    return {
        (int(c), int(r), str(state)): int(n)
        for c, r, state, n in query
        if (int(c), int(r)) in pairs
    }
