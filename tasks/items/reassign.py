"""Reassigning a declined or expired item to another reviewer: by a manager, or automatically.

Locks follow store/locks.py: the item's Call row first, so the reassignments and conflict
decisions of one call run one after the other (none reads a conflict or a chain another is
changing); then the Reviewer and ReviewerPoolEntry rows whose capacity is checked; then the
item (a decline locks its batch just before it). The old item becomes `reassigned`; its
successor (reassign_count + 1, reassigned_from the old one) goes into a NEW batch of the
target: a draft for the manager, sent at once when automatic.

Eligible reviewers (automatic reassignment and suggestions): an accepted pool entry of the
call, an available reviewer, capacity left in the call, affinity at least the call's
threshold, no blocking conflict and no item (any status: a decliner never gets it back) nor
review of the proposal; best first by affinity, then lower workload.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np

from matching.alternates import rank_order
from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    Proposal,
    Reviewer,
    ReviewerPoolEntry,
    User,
    write_transaction,
)
from store.enums import ASSIGNABLE_PROPOSAL_STATES, BatchSource, InvitationStatus, ItemStatus
from store.locks import lock_rows
from store.workload import workloads
from tasks.access import require_manager
from tasks.batches.create import PlannedItem, add_items, new_batch
from tasks.batches.send import send_batch_locked
from tasks.eligibility import (
    accepted_pool,
    affinity_scores,
    reviewers_in_conflict,
    reviewers_with_proposal,
)
from tasks.errors import (
    MSG_POOL_ENTRY_NOT_ELIGIBLE,
    MSG_REASSIGN_NOT_ALLOWED,
    MSG_REVIEWER_HAS_PROPOSAL,
    RuleViolation,
)
from tasks.results import Alternatives, Candidate, Reassigned
from tasks.rows import (
    find_item,
    lock_call,
    lock_item,
    lock_pool_entry,
    relock_pool_entry,
    save_item,
)
from tasks.rules import REASSIGNABLE_ITEMS

# --- the manager's reassignment --------------------------------------------------------------


def reassign_item(
    actor: User,
    item_uuid: str,
    reviewer_pool_entry_uuid: str,
    manager_notes: str = "",
    now: datetime | None = None,
) -> Reassigned:
    """declined|expired -> reassigned (a call manager): the proposal goes to the target pool
    entry as a new item in a new DRAFT batch (manual source, `manager_notes`), coi_blocked when
    a blocking conflict exists. Refusals, in this order: MSG_REASSIGN_NOT_ALLOWED (item status),
    MSG_POOL_ENTRY_NOT_ELIGIBLE (not in the call, not accepted, or no capacity left, read under
    the entry's lock), MSG_REVIEWER_HAS_PROPOSAL. Not idempotent: a second reassignment of the
    same item is refused with MSG_REASSIGN_NOT_ALLOWED."""
    del now  # the new batch is a draft: nothing is timed until it is sent
    with write_transaction():
        old = find_item(item_uuid)
        batch = AssignmentBatch.get_by_id(old.batch_id)
        require_manager(actor, batch)
        call = lock_call(batch.call_id)
        entry = lock_pool_entry(call, reviewer_pool_entry_uuid)
        old = lock_item(old.id)
        if old.status not in REASSIGNABLE_ITEMS:
            raise RuleViolation(MSG_REASSIGN_NOT_ALLOWED)
        if entry is None or not _has_room(entry, call):
            raise RuleViolation(MSG_POOL_ENTRY_NOT_ELIGIBLE)
        if entry.reviewer_id in reviewers_with_proposal(old.proposal_id):
            raise RuleViolation(MSG_REVIEWER_HAS_PROPOSAL)
        new_batch_, item = _move(old, entry, BatchSource.MANUAL, actor.id, manager_notes)
    return Reassigned(old, item, new_batch_)


def suggest_alternatives(actor: User, item_uuid: str, limit: int = 5) -> Alternatives:
    """Read only (a call manager): up to `limit` eligible pool entries for the item's proposal,
    best first (rank_candidates), with the item and its proposal."""
    item = find_item(item_uuid)
    batch = AssignmentBatch.get_by_id(item.batch_id)
    require_manager(actor, batch)
    call = Call.get_by_id(batch.call_id)
    ranked = rank_candidates(call, item.proposal_id)[: max(limit, 0)]
    proposal = Proposal.get_by_id(item.proposal_id)
    return Alternatives(item, proposal, ranked)


# --- automatic reassignment ------------------------------------------------------------------


def prepare_auto_reassign(call: Call, proposal_id: int) -> None:
    """Take, in the lock order, what `auto_reassign` reads: the Call row, then the Reviewer and
    pool entry rows of every candidate. Call it before locking the item's batch and item."""
    lock_call(call.id)
    entries = _eligible_entries(call, proposal_id)
    lock_rows(Reviewer, [e.reviewer_id for e in entries])
    lock_rows(ReviewerPoolEntry, [e.id for e in entries])


def auto_reassign(item: AssignmentItem, *, now: datetime) -> list[int]:
    """Reassign the declined or expired `item` (held locked, after `prepare_auto_reassign`, by
    the caller's transaction) to the best eligible reviewer, in a new batch sent at once.

    Does nothing (returns []) when the call does not enable auto_reassign_on_decline, when
    the chain already made max_auto_reassign_attempts reassignments (reassign_count), when the
    proposal is no longer submitted or in review, or when nobody is eligible. Otherwise the
    item -> reassigned and the invitation's outbox ids are returned (deliver after the commit).
    """
    call = Call.select().join(AssignmentBatch).where(AssignmentBatch.id == item.batch_id).get()
    if not call.auto_reassign_on_decline or item.status not in REASSIGNABLE_ITEMS:
        return []
    if item.reassign_count >= call.max_auto_reassign_attempts:
        return []
    if Proposal.get_by_id(item.proposal_id).state not in ASSIGNABLE_PROPOSAL_STATES:
        return []
    entry = _first_with_room(call, rank_candidates(call, item.proposal_id))
    if entry is None:
        return []
    batch, _ = _move(item, entry, BatchSource.ALGORITHM, None, "")
    return send_batch_locked(batch, now=now)


def auto_reassign_expired(item_ids: Iterable[int], *, now: datetime) -> list[int]:
    """For the scheduler: auto-reassign each of these items that is still `expired` (as a decline
    would), each in its own short transaction, so no lock is held across items. Idempotent: an
    item already reassigned, or extended back to pending, is skipped. Returns the outbox ids to
    deliver after the last commit (a row whose id is lost to a crash is re-driven by the sweep).
    """
    ids: list[int] = []
    for item_id in item_ids:
        ids += _auto_reassign_expired_one(item_id, now)
    return ids


def _auto_reassign_expired_one(item_id: int, now: datetime) -> list[int]:
    with write_transaction():
        found = AssignmentItem.get_or_none(AssignmentItem.id == item_id)
        if found is None or found.status != ItemStatus.EXPIRED:
            return []
        call = Call.select().join(AssignmentBatch).where(AssignmentBatch.id == found.batch_id).get()
        if not call.auto_reassign_on_decline:
            return []
        prepare_auto_reassign(call, found.proposal_id)
        item = lock_item(item_id)
        if item.status != ItemStatus.EXPIRED:
            return []
        return auto_reassign(item, now=now)


# --- eligibility -----------------------------------------------------------------------------


def rank_candidates(call: Call, proposal_id: int) -> list[Candidate]:
    """The eligible pool entries for the proposal with capacity left, best first: highest
    affinity (a missing affinity counts as 0), then lower workload, then pool entry id."""
    entries = _eligible_entries(call, proposal_id)
    if not entries:
        return []
    reviewer_ids = [e.reviewer_id for e in entries]
    loads = workloads(reviewer_ids, call_id=call.id)
    scores = _affinities(reviewer_ids, proposal_id)
    ranked = []
    for entry in entries:
        score = scores.get(entry.reviewer_id)
        left = entry.max_assignments - loads[entry.reviewer_id]
        if left > 0 and (score or 0.0) >= call.min_affinity_threshold:
            load = loads[entry.reviewer_id]
            ranked.append(Candidate(entry, entry.reviewer, score, load, left))
    order = rank_order(  # the engine's alternates rule (matching/alternates.py)
        np.zeros(len(ranked), dtype=np.int64),
        np.array([c.affinity or 0.0 for c in ranked], dtype=np.float64),
        np.array([c.workload for c in ranked], dtype=np.int64),
        np.array([c.entry.id for c in ranked], dtype=np.int64),
    )
    return [ranked[i] for i in order.tolist()]


def _eligible_entries(call: Call, proposal_id: int) -> list[ReviewerPoolEntry]:
    """Accepted entries of available reviewers without a blocking conflict or the proposal."""
    excluded = reviewers_with_proposal(proposal_id) | reviewers_in_conflict(proposal_id)
    return [entry for entry in accepted_pool(call) if entry.reviewer_id not in excluded]


def _affinities(reviewer_ids: list[int], proposal_id: int) -> dict[int, float]:
    known = affinity_scores([proposal_id], reviewer_ids=reviewer_ids)
    return {reviewer: score for (reviewer, _), score in known.items()}


def _has_room(entry: ReviewerPoolEntry, call: Call) -> bool:
    """Accepted, and below max_assignments in this call (the caller holds the entry's lock)."""
    if entry.invitation_status != InvitationStatus.ACCEPTED:
        return False
    load = workloads([entry.reviewer_id], call_id=call.id)[entry.reviewer_id]
    return bool(load < entry.max_assignments)


def _first_with_room(call: Call, ranked: list[Candidate]) -> ReviewerPoolEntry | None:
    """The best candidate whose capacity still holds once its rows are locked (they normally
    are already, by prepare_auto_reassign; a late newcomer is locked here)."""
    for candidate in ranked:
        fresh = relock_pool_entry(candidate.entry)
        if fresh is not None and _has_room(fresh, call):
            return fresh
    return None


# --- writes ----------------------------------------------------------------------------------


def _move(
    old: AssignmentItem,
    entry: ReviewerPoolEntry,
    source: BatchSource,
    created_by_id: int | None,
    manager_notes: str,
) -> tuple[AssignmentBatch, AssignmentItem]:
    """The old item -> reassigned; its successor in a new draft batch of `entry`."""
    batch = new_batch(
        entry, source=source, created_by_id=created_by_id, manager_notes=manager_notes
    )
    score = _affinities([entry.reviewer_id], old.proposal_id).get(entry.reviewer_id)
    plan = PlannedItem(
        old.proposal_id,
        affinity_score=score,
        reassigned_from_id=old.id,
        reassign_count=old.reassign_count + 1,
    )
    [item] = add_items(batch, entry.reviewer_id, [plan])
    save_item(old, status=ItemStatus.REASSIGNED)
    return batch, item
