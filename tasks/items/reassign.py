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
from dataclasses import dataclass
from datetime import datetime

from store import (
    Affinity,
    AssignmentBatch,
    AssignmentItem,
    Call,
    ConflictOfInterest,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
    write_transaction,
)
from store.enums import (
    ASSIGNABLE_PROPOSAL_STATES,
    BLOCKING_COI_STATUSES,
    BatchSource,
    InvitationStatus,
    ItemStatus,
)
from store.locks import lock_rows, locked
from store.lookups import find_by_uuid
from store.workload import workloads
from tasks.access import require_manager
from tasks.batches.create import PlannedItem, add_items, new_batch
from tasks.batches.send import send_batch_locked
from tasks.errors import (
    MSG_POOL_ENTRY_NOT_ELIGIBLE,
    MSG_REASSIGN_NOT_ALLOWED,
    MSG_REASSIGNED,
    MSG_REVIEWER_HAS_PROPOSAL,
    NotFound,
    RuleViolation,
)
from tasks.results import ActionResult

REASSIGNABLE = (ItemStatus.DECLINED, ItemStatus.EXPIRED)


@dataclass(frozen=True)
class Candidate:
    """A pool entry that may take the proposal, and why it ranks where it does."""

    entry: ReviewerPoolEntry
    reviewer: Reviewer
    affinity: float | None
    workload: int
    capacity_left: int

    def json(self) -> dict[str, object]:
        return {
            "uuid": str(self.entry.uuid),
            "reviewer_uuid": str(self.reviewer.uuid),
            "reviewer_name": self.reviewer.name,
            "affinity_score": self.affinity,
            "workload": self.workload,
            "capacity_left": self.capacity_left,
        }


# --- the manager's reassignment --------------------------------------------------------------


def reassign_item(
    actor: User,
    item_uuid: str,
    reviewer_pool_entry_uuid: str,
    manager_notes: str = "",
    now: datetime | None = None,
) -> ActionResult:
    """declined|expired -> reassigned (a call manager): the proposal goes to the target pool
    entry as a new item in a new DRAFT batch (manual source, `manager_notes`), coi_blocked when
    a blocking conflict exists. Refusals, in this order: MSG_REASSIGN_NOT_ALLOWED (item status),
    MSG_POOL_ENTRY_NOT_ELIGIBLE (not in the call, not accepted, or no capacity left, read under
    the entry's lock), MSG_REVIEWER_HAS_PROPOSAL. Not idempotent: a second reassignment of the
    same item is refused with MSG_REASSIGN_NOT_ALLOWED."""
    del now  # the new batch is a draft: nothing is timed until it is sent
    with write_transaction():
        old = _find_item(item_uuid)
        batch = AssignmentBatch.get_by_id(old.batch_id)
        require_manager(actor, batch)
        call = lock_call(batch.call_id)
        entry = _lock_target(call, reviewer_pool_entry_uuid)
        old = lock_item(old.id)
        if old.status not in REASSIGNABLE:
            raise RuleViolation(MSG_REASSIGN_NOT_ALLOWED)
        if entry is None or not _has_room(entry, call):
            raise RuleViolation(MSG_POOL_ENTRY_NOT_ELIGIBLE)
        if entry.reviewer_id in reviewers_with_proposal(old.proposal_id):
            raise RuleViolation(MSG_REVIEWER_HAS_PROPOSAL)
        new_batch_, item = _move(old, entry, BatchSource.MANUAL, actor.id, manager_notes)
    body = {
        "detail": MSG_REASSIGNED,
        "new_item_uuid": str(item.uuid),
        "new_batch_uuid": str(new_batch_.uuid),
        "has_coi": bool(item.has_coi),
    }
    return ActionResult(body)


def suggest_alternatives(actor: User, item_uuid: str, limit: int = 5) -> ActionResult:
    """Read only (a call manager): up to `limit` eligible pool entries for the item's proposal,
    best first. Answers `{"item_uuid", "proposal_uuid", "suggestions": [{uuid, reviewer_uuid,
    reviewer_name, affinity_score, workload, capacity_left}]}`."""
    item = _find_item(item_uuid)
    batch = AssignmentBatch.get_by_id(item.batch_id)
    require_manager(actor, batch)
    call = Call.get_by_id(batch.call_id)
    ranked = rank_candidates(call, item.proposal_id)[: max(limit, 0)]
    proposal = Proposal.get_by_id(item.proposal_id)
    body = {
        "item_uuid": str(item.uuid),
        "proposal_uuid": str(proposal.uuid),
        "suggestions": [candidate.json() for candidate in ranked],
    }
    return ActionResult(body)


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
    if not call.auto_reassign_on_decline or item.status not in REASSIGNABLE:
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


def reviewers_with_proposal(proposal_id: int) -> set[int]:
    """Reviewers who have (had) an item of any status for the proposal, or a review of it."""
    items = (
        AssignmentItem.select(ReviewerPoolEntry.reviewer)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(AssignmentItem.proposal == proposal_id)
        .tuples()
    )
    reviews = (
        Review.select(Review.reviewer)
        .where(Review.proposal == proposal_id, Review.reviewer.is_null(False))
        .tuples()
    )
    return {r for (r,) in items} | {r for (r,) in reviews}


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
    ranked.sort(key=lambda c: (-(c.affinity or 0.0), c.workload, c.entry.id))
    return ranked


def _eligible_entries(call: Call, proposal_id: int) -> list[ReviewerPoolEntry]:
    """Accepted entries of available reviewers without a blocking conflict or the proposal."""
    excluded = reviewers_with_proposal(proposal_id) | _blocked_reviewers(proposal_id)
    query = (
        ReviewerPoolEntry.select(ReviewerPoolEntry, Reviewer)
        .join(Reviewer)
        .where(
            ReviewerPoolEntry.call == call.id,
            ReviewerPoolEntry.invitation_status == InvitationStatus.ACCEPTED,
            Reviewer.available_for_reviews == True,  # noqa: E712 (SQL, not Python)
        )
        .order_by(ReviewerPoolEntry.id)
    )
    return [entry for entry in query if entry.reviewer_id not in excluded]


def _blocked_reviewers(proposal_id: int) -> set[int]:
    query = ConflictOfInterest.select(ConflictOfInterest.reviewer).where(
        ConflictOfInterest.proposal == proposal_id,
        ConflictOfInterest.status.in_(list(BLOCKING_COI_STATUSES)),
    )
    return {r for (r,) in query.tuples()}


def _affinities(reviewer_ids: list[int], proposal_id: int) -> dict[int, float]:
    query = Affinity.select(Affinity.reviewer, Affinity.score).where(
        Affinity.proposal == proposal_id, Affinity.reviewer.in_(reviewer_ids)
    )
    return {r: float(s) for r, s in query.tuples()}


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
        lock_rows(Reviewer, [candidate.entry.reviewer_id])
        entry = locked(ReviewerPoolEntry.select().where(ReviewerPoolEntry.id == candidate.entry.id))
        fresh = entry.first()
        if fresh is not None and _has_room(fresh, call):
            return fresh
    return None


# --- locks and writes ------------------------------------------------------------------------


def lock_call(call_id: int) -> Call:
    """The Call row, locked: the first lock of every reassignment and conflict decision."""
    return locked(Call.select().where(Call.id == call_id)).get()


def lock_item(item_id: int) -> AssignmentItem:
    """The item row, locked and fresh; NotFound if it was deleted meanwhile."""
    item = locked(AssignmentItem.select().where(AssignmentItem.id == item_id)).first()
    if item is None:
        raise NotFound("assignment item")
    return item


def _find_item(item_uuid: str) -> AssignmentItem:
    item = find_by_uuid(AssignmentItem, item_uuid)
    if item is None:
        raise NotFound("assignment item")
    return item


def _lock_target(call: Call, entry_uuid: str) -> ReviewerPoolEntry | None:
    """The call's pool entry with this uuid, its Reviewer row then itself locked; else None."""
    found = find_by_uuid(ReviewerPoolEntry, entry_uuid)
    if found is None or found.call_id != call.id:
        return None
    lock_rows(Reviewer, [found.reviewer_id])
    return find_by_uuid(ReviewerPoolEntry, entry_uuid, lock=True)


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


def save_item(item: AssignmentItem, **values: object) -> None:
    """Set these fields on `item` and save it (the caller holds its lock)."""
    for name, value in values.items():
        setattr(item, name, value)
    item.save()
