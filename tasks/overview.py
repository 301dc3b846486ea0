"""What a call's manager reads on the call's page (web/): the state of the whole call at once.

Batches by status, each proposal's coverage (accepted / pending against the call's
reviewers_per_proposal), each accepted pool entry's load against its max_assignments, the
declines with their reasons, the conflicts of interest, the items held by a conflict, and the
items that may be reassigned with the best eligible reviewers for each. Read only; the
permission is the API's (tasks/access.py: a manager of another call gets NotFound).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ConflictOfInterest,
    Proposal,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.enums import (
    ASSIGNABLE_PROPOSAL_STATES,
    BatchStatus,
    InvitationStatus,
    ItemStatus,
)
from store.workload import workloads
from tasks.access import managed_call_ids, require_call_manager
from tasks.batches.views import BatchView, batch_views
from tasks.items.reassign import rank_candidates
from tasks.results import Candidate
from tasks.rules import REASSIGNABLE_ITEMS

#: how many reassignable items get their candidates ranked on one page view
MAX_RANKED_ITEMS = 25
CANDIDATES_PER_ITEM = 5
LIVE_BATCHES = (BatchStatus.DRAFT, BatchStatus.SENT)


@dataclass(frozen=True)
class Coverage:
    """One proposal: reviewers who accepted, invitations still open, and how many it needs."""

    proposal: Proposal
    accepted: int
    pending: int
    needed: int

    @property
    def missing(self) -> int:
        return max(self.needed - self.accepted - self.pending, 0)


@dataclass(frozen=True)
class Load:
    """One accepted pool entry: its open assignments in the call against its capacity."""

    entry: ReviewerPoolEntry
    reviewer: Reviewer
    load: int

    @property
    def capacity(self) -> int:
        return int(self.entry.max_assignments)


@dataclass(frozen=True)
class Decline:
    """A declined item (still declined, or reassigned since) with the reviewer's reason."""

    item: AssignmentItem
    reviewer: Reviewer
    proposal: Proposal


@dataclass(frozen=True)
class Conflict:
    conflict: ConflictOfInterest
    reviewer: Reviewer
    proposal: Proposal


@dataclass(frozen=True)
class HeldItem:
    """An item that needs the manager: coi_blocked (force-unblock) or declined/expired
    (reassign, with the best eligible candidates when ranked)."""

    item: AssignmentItem
    reviewer: Reviewer
    proposal: Proposal
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class CallOverview:
    call: Call
    batches: list[BatchView]
    status_counts: dict[str, int]
    coverage: list[Coverage]
    loads: list[Load]
    declines: list[Decline]
    conflicts: list[Conflict]
    blocked: list[HeldItem]
    reassignable: list[HeldItem]

    def batches_with(self, status: BatchStatus) -> list[BatchView]:
        return [view for view in self.batches if view.batch.status == status]


def managed_calls(actor: User) -> list[Call]:
    """The calls `actor` manages (staff: every call), by name."""
    query = Call.select().order_by(Call.name, Call.id)
    if not actor.is_staff:
        query = query.where(Call.id.in_(list(managed_call_ids(actor)) or [0]))
    return list(query)


def call_overview(actor: User, call_token: str) -> CallOverview:
    """Everything the call's page shows; NotFound unless `actor` manages the call."""
    call = require_call_manager(actor, call_token)
    batches_query = (
        AssignmentBatch.select(AssignmentBatch.id)
        .where(AssignmentBatch.call == call.id)
        .order_by(AssignmentBatch.created.desc(), AssignmentBatch.id.desc())
    )
    batches = batch_views(batches_query, with_items=False)
    counts = Counter(str(view.batch.status) for view in batches)
    return CallOverview(
        call=call,
        batches=batches,
        status_counts={status.value: counts.get(status.value, 0) for status in BatchStatus},
        coverage=_coverage(call),
        loads=_loads(call),
        declines=_declines(call),
        conflicts=_conflicts(call),
        blocked=_held(call, [ItemStatus.COI_BLOCKED], rank=False),
        reassignable=_held(call, list(REASSIGNABLE_ITEMS), rank=True),
    )


def _items_of_call(call: Call) -> Any:
    return (
        AssignmentItem.select(
            AssignmentItem, AssignmentBatch, ReviewerPoolEntry, Reviewer, Proposal
        )
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .join(Reviewer)
        .switch(AssignmentItem)
        .join(Proposal)
        .where(AssignmentBatch.call == call.id)
    )


def _coverage(call: Call) -> list[Coverage]:
    proposals = list(
        Proposal.select()
        .where(Proposal.call == call.id, Proposal.state.in_(list(ASSIGNABLE_PROPOSAL_STATES)))
        .order_by(Proposal.name, Proposal.id)
    )
    rows = (
        AssignmentItem.select(
            AssignmentItem.proposal, AssignmentItem.status, AssignmentBatch.status
        )
        .join(AssignmentBatch)
        .where(
            AssignmentBatch.call == call.id,
            AssignmentItem.status.in_([ItemStatus.ACCEPTED, ItemStatus.PENDING]),
        )
        .tuples()
    )
    accepted: Counter[int] = Counter()
    pending: Counter[int] = Counter()
    for proposal_id, status, batch_status in rows:
        if status == ItemStatus.ACCEPTED.value:
            accepted[proposal_id] += 1
        elif batch_status in {s.value for s in LIVE_BATCHES}:
            pending[proposal_id] += 1
    needed = int(call.reviewers_per_proposal)
    return [Coverage(p, accepted[p.id], pending[p.id], needed) for p in proposals]


def _loads(call: Call) -> list[Load]:
    entries = list(
        ReviewerPoolEntry.select(ReviewerPoolEntry, Reviewer)
        .join(Reviewer)
        .where(
            ReviewerPoolEntry.call == call.id,
            ReviewerPoolEntry.invitation_status == InvitationStatus.ACCEPTED,
        )
        .order_by(Reviewer.name, ReviewerPoolEntry.id)
    )
    loads = workloads([e.reviewer_id for e in entries], call_id=call.id)
    return [Load(e, e.reviewer, loads.get(e.reviewer_id, 0)) for e in entries]


def _declines(call: Call) -> list[Decline]:
    query = _items_of_call(call).where(
        AssignmentItem.status.in_([ItemStatus.DECLINED, ItemStatus.REASSIGNED]),
        AssignmentItem.responded_at.is_null(False),
    )
    return [
        Decline(item, item.batch.reviewer_pool_entry.reviewer, item.proposal)
        for item in query.order_by(AssignmentItem.responded_at.desc(), AssignmentItem.id)
    ]


def _conflicts(call: Call) -> list[Conflict]:
    query = (
        ConflictOfInterest.select(ConflictOfInterest, Reviewer, Proposal)
        .join(Reviewer)
        .switch(ConflictOfInterest)
        .join(Proposal, JOIN.INNER)
        .where(ConflictOfInterest.call == call.id)
        .order_by(ConflictOfInterest.status, Reviewer.name, Proposal.name)
    )
    return [Conflict(coi, coi.reviewer, coi.proposal) for coi in query]


def _held(call: Call, statuses: list[ItemStatus], *, rank: bool) -> list[HeldItem]:
    query = _items_of_call(call).where(AssignmentItem.status.in_(statuses))
    held = []
    ranked: dict[int, list[Candidate]] = defaultdict(list)
    for n, item in enumerate(query.order_by(AssignmentItem.id)):
        if rank and n < MAX_RANKED_ITEMS:
            if item.proposal_id not in ranked:
                ranked[item.proposal_id] = rank_candidates(call, item.proposal_id)
            candidates = ranked[item.proposal_id][:CANDIDATES_PER_ITEM]
        else:
            candidates = []
        held.append(
            HeldItem(item, item.batch.reviewer_pool_entry.reviewer, item.proposal, candidates)
        )
    return held
