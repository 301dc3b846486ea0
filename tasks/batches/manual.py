"""Manual assignment: a manager puts chosen proposals in a reviewer's `manual` draft batch.

The manual draft of the pool entry is reused while it is open (a draft), so repeated manual
assignments before sending gather in one invitation; a new draft is created only when the
entry has none and there is something to put in it. The transaction locks the Call row, then
the Reviewer and ReviewerPoolEntry rows, in the lock order of `store/locks.py`, before the
capacity and the duplicates are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
    write_transaction,
)
from store.calls import Affinity
from store.enums import (
    ASSIGNABLE_PROPOSAL_STATES,
    BatchSource,
    BatchStatus,
    InvitationStatus,
    ReviewState,
)
from store.locks import lock_rows, locked
from store.lookups import as_uuid
from store.workload import workloads
from tasks.batches.create import PlannedItem, add_items, blocking_conflict_ids, open_draft
from tasks.batches.generate import (
    lock_managed_call,
    not_assignable_reason,
    resolve_call_proposals,
)
from tasks.batches.wire import batch_json
from tasks.errors import (
    MSG_OVER_WORKLOAD_SUFFIX,
    MSG_POOL_ENTRY_NOT_ELIGIBLE,
    MSG_REVIEWER_HAS_PROPOSAL,
    RuleViolation,
    ValidationFailed,
)

MSG_ALREADY_IN_BATCH = "Proposal is already in this batch."


@dataclass(frozen=True)
class _Decision:
    to_add: list[Proposal]
    skipped: list[dict[str, Any]]


def create_manual_assignment(
    actor: User,
    call_uuid: str,
    reviewer_pool_entry_uuid: str,
    proposal_uuids: Sequence[str],
    manager_notes: str = "",
    override_workload_limit: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Add the proposals to the pool entry's open `manual` draft (created if needed).

    Guarantees: all or nothing; items with a blocking COI are created `coi_blocked`; a proposal
    the reviewer already has (an item in any batch, or a review) or that is not assignable is
    skipped with a reason; unless `override_workload_limit`, RuleViolation (ending in
    MSG_OVER_WORKLOAD_SUFFIX) when the reviewer's workload in the call plus the new pending
    items would exceed max_assignments. Non-empty `manager_notes` replace the draft's notes.
    The draft exists afterwards even when nothing was added, so `batch_uuid` always names it
    (the published client requires it); send-all skips a draft without pending items.
    """
    if not proposal_uuids:
        raise ValidationFailed([{"field": "proposal_uuids", "message": "name one or more"}])
    with write_transaction():
        call = lock_managed_call(actor, call_uuid)
        entry = _lock_entry(call, reviewer_pool_entry_uuid)
        proposals = resolve_call_proposals(call, proposal_uuids)
        draft = _open_manual_draft(entry)
        decision = _decide(entry, draft, proposals)
        if not override_workload_limit:
            _check_workload(call, entry, decision.to_add)
        if draft is None:
            draft = open_draft(entry, source=BatchSource.MANUAL, created_by_id=actor.id)
        created = _add(entry, draft, decision.to_add, call)
        if manager_notes:
            draft.manager_notes = manager_notes
            draft.save()
    return {
        "batch_uuid": str(draft.uuid),
        "items_created": created,
        "skipped_proposals": decision.skipped,
    }


def _lock_entry(call: Call, token: str) -> ReviewerPoolEntry:
    """The call's accepted pool entry, its Reviewer and entry rows locked; RuleViolation
    (MSG_POOL_ENTRY_NOT_ELIGIBLE) if unknown, of another call or not accepted."""
    wanted = as_uuid(str(token))
    entry = (
        None
        if wanted is None
        else ReviewerPoolEntry.get_or_none(
            ReviewerPoolEntry.uuid == wanted, ReviewerPoolEntry.call == call.id
        )
    )
    if entry is None:
        raise RuleViolation(MSG_POOL_ENTRY_NOT_ELIGIBLE)
    lock_rows(Reviewer, [entry.reviewer_id])
    entry = locked(ReviewerPoolEntry.select().where(ReviewerPoolEntry.id == entry.id)).get()
    if entry.invitation_status != InvitationStatus.ACCEPTED:
        raise RuleViolation(MSG_POOL_ENTRY_NOT_ELIGIBLE)
    return entry


def _open_manual_draft(entry: ReviewerPoolEntry) -> AssignmentBatch | None:
    return (
        AssignmentBatch.select()
        .where(
            AssignmentBatch.reviewer_pool_entry == entry.id,
            AssignmentBatch.status == BatchStatus.DRAFT,
            AssignmentBatch.source == BatchSource.MANUAL,
        )
        .order_by(AssignmentBatch.id)
        .first()
    )


def _held(entry: ReviewerPoolEntry, proposal_ids: Sequence[int]) -> dict[int, set[int]]:
    """proposal id -> ids of the batches where the entry has an item for it (any status, any
    batch); an empty set when the reviewer holds a review of it instead."""
    items = (
        AssignmentItem.select(AssignmentItem.proposal, AssignmentItem.batch)
        .join(AssignmentBatch)
        .where(
            AssignmentBatch.reviewer_pool_entry == entry.id,
            AssignmentItem.proposal.in_(list(proposal_ids)),
        )
    )
    reviews = Review.select(Review.proposal).where(
        Review.reviewer == entry.reviewer_id,
        Review.proposal.in_(list(proposal_ids)),
        Review.state != ReviewState.UNASSIGNED,
    )
    held: dict[int, set[int]] = {p: set() for (p,) in reviews.tuples()}
    for proposal_id, batch_id in items.tuples():
        held.setdefault(proposal_id, set()).add(batch_id)
    return held


def _decide(
    entry: ReviewerPoolEntry, draft: AssignmentBatch | None, proposals: Sequence[Proposal]
) -> _Decision:
    held = _held(entry, [p.id for p in proposals]) if proposals else {}
    to_add: list[Proposal] = []
    skipped: list[dict[str, Any]] = []
    for proposal in proposals:
        reason = None
        if proposal.state not in ASSIGNABLE_PROPOSAL_STATES:
            reason = not_assignable_reason(proposal)
        elif proposal.id in held:
            in_draft = draft is not None and draft.id in held[proposal.id]
            reason = MSG_ALREADY_IN_BATCH if in_draft else MSG_REVIEWER_HAS_PROPOSAL
        if reason is None:
            to_add.append(proposal)
        else:
            skipped.append(
                {
                    "proposal_uuid": str(proposal.uuid),
                    "proposal_name": proposal.name,
                    "reason": reason,
                }
            )
    return _Decision(to_add, skipped)


def _check_workload(call: Call, entry: ReviewerPoolEntry, to_add: Sequence[Proposal]) -> None:
    """RuleViolation when the new pending items take the reviewer above max_assignments;
    coi_blocked items do not count (they are no workload until unblocked)."""
    blocked = blocking_conflict_ids(entry.reviewer_id, [p.id for p in to_add]) if to_add else {}
    new = sum(1 for p in to_add if p.id not in blocked)
    current = workloads([entry.reviewer_id], call_id=call.id)[entry.reviewer_id]
    if new and current + new > entry.max_assignments:
        raise RuleViolation(
            f"Reviewer has {current} open assignment(s) in this call; {new} more would exceed "
            f"max_assignments ({entry.max_assignments}). {MSG_OVER_WORKLOAD_SUFFIX}"
        )


def _add(
    entry: ReviewerPoolEntry, draft: AssignmentBatch, to_add: Sequence[Proposal], call: Call
) -> int:
    if not to_add:
        return 0
    scores = dict(
        Affinity.select(Affinity.proposal, Affinity.score)
        .where(
            Affinity.call == call.id,
            Affinity.reviewer == entry.reviewer_id,
            Affinity.proposal.in_([p.id for p in to_add]),
        )
        .tuples()
    )
    planned = [PlannedItem(p.id, affinity_score=scores.get(p.id)) for p in to_add]
    return len(add_items(draft, entry.reviewer_id, planned))


def create_batch(
    actor: User,
    call_uuid: str,
    reviewer_pool_entry_uuid: str,
    manager_notes: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """`POST assignment-batches/`: the pool entry's open `manual` draft, created empty if it
    has none (never two manual drafts for one entry: manual assignment then fills this one).
    Non-empty `manager_notes` replace its note. Answers the retrieve JSON. NotFound unless
    `actor` manages the call; RuleViolation (MSG_POOL_ENTRY_NOT_ELIGIBLE) for an entry that is
    unknown, of another call or not accepted. Idempotent: a second call returns the same draft.
    """
    with write_transaction():
        call = lock_managed_call(actor, call_uuid)
        entry = _lock_entry(call, reviewer_pool_entry_uuid)
        draft = open_draft(entry, source=BatchSource.MANUAL, created_by_id=actor.id)
        if manager_notes:
            draft.manager_notes = manager_notes
            draft.save()
        return batch_json(draft, now=now)
