"""Reading calls and their proposals as the API offers them (`/api/proposal-protected-calls/`,
`/api/proposal-proposals/`): what a batch's `call` and an item's `proposal` link to.

Visibility (tasks/access.py): staff see everything; a call's managers the call and all its
proposals; a reviewer the calls whose pool holds them and the proposals their own sent,
responded or expired batches invite them to, with what the call's `proposal_disclosure`
shows them of each (the title always; the summary with titles_and_summaries or full_details;
keywords and organization with full_details; the title only where their item is blocked by a
conflict of interest, as the invitation shows it). Anything else is NotFound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from store import AssignmentBatch, AssignmentItem, Call, Proposal, ReviewerPoolEntry, User
from store.enums import CallState, Disclosure, ItemStatus, ProposalState
from store.lookups import resolve_id
from tasks.access import (
    is_manager_of,
    own_reviewer_ids,
    visible_calls_condition,
    visible_proposals_condition,
)
from tasks.batches.listing import (
    DEFAULT_PAGE_SIZE,
    choices,
    ordering_clauses,
    paged,
    uuid_field,
)
from tasks.errors import NotFound
from tasks.rules import REVIEWER_VISIBLE_BATCHES, SUMMARY_LEVELS

CALL_ORDERING = {"created": Call.created, "name": Call.name}
PROPOSAL_ORDERING = {
    "created": Proposal.created,
    "name": Proposal.name,
    "slug": Proposal.slug,
    "state": Proposal.state,
}


@dataclass(frozen=True)
class ProposalView:
    """A proposal as `actor` may see it: `full` for the call's managers, else what the call
    discloses to a reviewer."""

    proposal: Proposal
    call: Call
    summary: str
    keywords: list[str]
    organization: str


def _where(query: Any, condition: Any) -> Any:
    return query if condition is None else query.where(condition)


def get_call(actor: User, call_token: str) -> Call:
    """The call (uuid or external id) `actor` may see; NotFound otherwise."""
    call = resolve_id(Call, str(call_token))
    if call is None:
        raise NotFound("call")
    condition = visible_calls_condition(actor)
    if condition is not None and not Call.select().where(Call.id == call.id, condition).exists():
        raise NotFound("call")
    return call


def list_calls(
    actor: User,
    *,
    state: Sequence[str] = (),
    ordering: Sequence[str] = (),
    page: int = 1,
    page_size: int | None = DEFAULT_PAGE_SIZE,
) -> tuple[list[Call], int]:
    """One page of the calls `actor` may see (any of `state`), and their total count."""
    query = _where(Call.select(), visible_calls_condition(actor))
    if state:
        query = query.where(Call.state.in_(choices("state", CallState, state)))
    total = int(query.count())
    query = query.order_by(*ordering_clauses(ordering, CALL_ORDERING, Call))
    return list(paged(query, page, page_size)), total


def get_proposal(actor: User, proposal_uuid: str) -> ProposalView:
    """The proposal `actor` may see, as they may see it; NotFound otherwise."""
    proposal = resolve_id(Proposal, str(proposal_uuid))
    if proposal is None:
        raise NotFound("proposal")
    condition = visible_proposals_condition(actor)
    query = Proposal.select().where(Proposal.id == proposal.id)
    if condition is not None and not query.where(condition).exists():
        raise NotFound("proposal")
    return _proposal_views(actor, [proposal])[0]


def list_proposals(
    actor: User,
    *,
    call_uuid: str | None = None,
    state: Sequence[str] = (),
    ordering: Sequence[str] = (),
    page: int = 1,
    page_size: int | None = DEFAULT_PAGE_SIZE,
) -> tuple[list[ProposalView], int]:
    """One page of the proposals `actor` may see, of one call (`call_uuid`, a uuid) and in
    any of `state` when given, and their total count. FieldRejected names a bad filter."""
    query = _where(Proposal.select(), visible_proposals_condition(actor))
    if call_uuid is not None:
        parsed = uuid_field("call_uuid", call_uuid)
        query = query.where(Proposal.call.in_(Call.select(Call.id).where(Call.uuid == parsed)))
    if state:
        query = query.where(Proposal.state.in_(choices("state", ProposalState, state)))
    total = int(query.count())
    query = query.order_by(*ordering_clauses(ordering, PROPOSAL_ORDERING, Proposal))
    return _proposal_views(actor, list(paged(query, page, page_size))), total


def _proposal_views(actor: User, proposals: list[Proposal]) -> list[ProposalView]:
    call_ids = {p.call_id for p in proposals}
    calls = {c.id: c for c in Call.select().where(Call.id.in_(list(call_ids)))} if call_ids else {}
    managed = {cid for cid in call_ids if is_manager_of(actor, cid)}
    unblocked = _unblocked_invitations(actor, [p.id for p in proposals if p.call_id not in managed])
    out = []
    for proposal in proposals:
        call = calls[proposal.call_id]
        if call.id in managed:
            level = Disclosure.FULL_DETAILS
        elif proposal.id in unblocked:
            level = call.proposal_disclosure
        else:  # as the invitation shows a COI-blocked item: its title only
            level = Disclosure.TITLES_ONLY
        full = level == Disclosure.FULL_DETAILS
        out.append(
            ProposalView(
                proposal=proposal,
                call=call,
                summary=proposal.summary if level in SUMMARY_LEVELS else "",
                keywords=list(proposal.keywords or []) if full else [],
                organization=proposal.organization if full else "",
            )
        )
    return out


def _unblocked_invitations(actor: User, proposal_ids: list[int]) -> set[int]:
    """Of these proposals, those `actor` is invited to by an item that is not COI-blocked, in
    one of their own visible batches."""
    if not proposal_ids:
        return set()
    query = (
        AssignmentItem.select(AssignmentItem.proposal)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(
            AssignmentItem.proposal.in_(proposal_ids),
            AssignmentItem.status != ItemStatus.COI_BLOCKED,
            ReviewerPoolEntry.reviewer.in_(own_reviewer_ids(actor)),
            AssignmentBatch.status.in_(list(REVIEWER_VISIBLE_BATCHES)),
        )
        .tuples()
    )
    return {int(pid) for (pid,) in query}
