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

from store import AssignmentBatch, Call, Proposal, ReviewerPoolEntry, User, write_transaction
from store.enums import ASSIGNABLE_PROPOSAL_STATES, BatchSource, InvitationStatus
from store.workload import workloads
from tasks.batches.create import PlannedItem, add_items, existing_draft, open_draft
from tasks.batches.generate import not_assignable_reason, resolve_call_proposals
from tasks.batches.views import BatchView, batch_view
from tasks.eligibility import affinity_scores, entry_held_proposals, reviewer_conflict_ids
from tasks.errors import (
    MSG_ALREADY_IN_BATCH,
    MSG_POOL_ENTRY_NOT_ELIGIBLE,
    MSG_REVIEWER_HAS_PROPOSAL,
    NotFound,
    RuleViolation,
    ValidationFailed,
    over_workload,
)
from tasks.results import ManuallyAssigned, SkippedProposal
from tasks.rows import lock_managed_call, lock_pool_entry


@dataclass(frozen=True)
class _Decision:
    to_add: list[Proposal]
    skipped: list[SkippedProposal]


def create_manual_assignment(
    actor: User,
    call_uuid: str,
    reviewer_pool_entry_uuid: str,
    proposal_uuids: Sequence[str],
    manager_notes: str = "",
    override_workload_limit: bool = False,
    now: datetime | None = None,
) -> ManuallyAssigned:
    """Add the proposals to the pool entry's open `manual` draft (created if needed).

    Guarantees: all or nothing; items with a blocking COI are created `coi_blocked`; a proposal
    the reviewer already has (an item in any batch, or a review) or that is not assignable is
    skipped with a reason; unless `override_workload_limit`, RuleViolation (ending in
    MSG_OVER_WORKLOAD_SUFFIX) when the reviewer's workload in the call plus the new pending
    items would exceed max_assignments. Non-empty `manager_notes` replace the draft's notes.
    The draft exists afterwards even when nothing was added, so the result always names it
    (the published client requires it); send-all skips a draft without pending items.
    """
    if not proposal_uuids:
        raise ValidationFailed([{"field": "proposal_uuids", "message": "name one or more"}])
    with write_transaction():
        call = lock_managed_call(actor, call_uuid)
        entry = _lock_entry(call, reviewer_pool_entry_uuid)
        proposals = resolve_call_proposals(call, proposal_uuids)
        draft = existing_draft(entry, BatchSource.MANUAL)
        decision = _decide(entry, draft, proposals)
        if not override_workload_limit:
            _check_workload(call, entry, decision.to_add)
        if draft is None:
            draft = open_draft(entry, source=BatchSource.MANUAL, created_by_id=actor.id)
        created = _add(entry, draft, decision.to_add, call)
        if manager_notes:
            draft.manager_notes = manager_notes
            draft.save()
    return ManuallyAssigned(draft, created, decision.skipped)


def _lock_entry(call: Call, token: str) -> ReviewerPoolEntry:
    """The call's accepted pool entry, its Reviewer and entry rows locked; RuleViolation
    (MSG_POOL_ENTRY_NOT_ELIGIBLE) if unknown, of another call or not accepted."""
    entry = lock_pool_entry(call, str(token))
    if entry is None or entry.invitation_status != InvitationStatus.ACCEPTED:
        raise RuleViolation(MSG_POOL_ENTRY_NOT_ELIGIBLE)
    return entry


def _decide(
    entry: ReviewerPoolEntry, draft: AssignmentBatch | None, proposals: Sequence[Proposal]
) -> _Decision:
    held = entry_held_proposals(entry, [p.id for p in proposals]) if proposals else {}
    to_add: list[Proposal] = []
    skipped: list[SkippedProposal] = []
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
            skipped.append(SkippedProposal(proposal, reason))
    return _Decision(to_add, skipped)


def _check_workload(call: Call, entry: ReviewerPoolEntry, to_add: Sequence[Proposal]) -> None:
    """RuleViolation when the new pending items take the reviewer above max_assignments;
    coi_blocked items do not count (they are no workload until unblocked)."""
    blocked = reviewer_conflict_ids(entry.reviewer_id, [p.id for p in to_add]) if to_add else {}
    new = sum(1 for p in to_add if p.id not in blocked)
    current = workloads([entry.reviewer_id], call_id=call.id)[entry.reviewer_id]
    if new and current + new > entry.max_assignments:
        raise RuleViolation(over_workload(current, new, entry.max_assignments))


def _add(
    entry: ReviewerPoolEntry, draft: AssignmentBatch, to_add: Sequence[Proposal], call: Call
) -> int:
    if not to_add:
        return 0
    known = affinity_scores(
        [p.id for p in to_add], reviewer_ids=[entry.reviewer_id], call_id=call.id
    )
    scores = {proposal: score for (_, proposal), score in known.items()}
    planned = [PlannedItem(p.id, affinity_score=scores.get(p.id)) for p in to_add]
    return len(add_items(draft, entry.reviewer_id, planned))


def create_batch(
    actor: User,
    call_uuid: str | None,
    reviewer_pool_entry_uuid: str | None,
    manager_notes: str = "",
    now: datetime | None = None,
) -> BatchView:
    """`POST assignment-batches/`: the pool entry's open `manual` draft, created empty if it
    has none (never two manual drafts for one entry: manual assignment then fills this one).
    Non-empty `manager_notes` replace its note. Returns it with its items. NotFound unless
    `actor` manages the call, and when no call or no pool entry is named (Waldur's body has
    only `manager_notes`: there is no invitation to find); RuleViolation
    (MSG_POOL_ENTRY_NOT_ELIGIBLE) for an entry that is unknown, of another call or not
    accepted. Idempotent: a second call returns the same draft.
    """
    if call_uuid is None or reviewer_pool_entry_uuid is None:
        raise NotFound("call")
    with write_transaction():
        call = lock_managed_call(actor, call_uuid)
        entry = _lock_entry(call, reviewer_pool_entry_uuid)
        draft = open_draft(entry, source=BatchSource.MANUAL, created_by_id=actor.id)
        if manager_notes:
            draft.manager_notes = manager_notes
            draft.save()
        return batch_view(draft, now=now)
