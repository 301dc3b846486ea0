"""What the store says about who may review what: the only queries of the accepted pool,
blocking conflicts, proposals a reviewer already has, and affinities.

Every use case that asks one of these questions asks it here, so "blocking" and "already has"
mean one thing each (or, where use cases differ, a named rule: see `HeldRule`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from peewee import SQL, Expression, fn

from matching import ExclusionKind
from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ConflictOfInterest,
    ItemConflict,
    Review,
    Reviewer,
    ReviewerPoolEntry,
)
from store.calls import Affinity
from store.compiled import CompiledQuery, among
from store.enums import BLOCKING_COI_STATUSES, InvitationStatus, ItemStatus, ReviewState
from tasks.rules import HOLDING_ITEMS, HOLDING_REVIEW_STATES, OPEN_BATCHES

Pair = tuple[int, int]  # (reviewer id, proposal id)


def id_chunks(values: Sequence[int], size: int = 1000) -> list[list[int]]:
    """`values` cut into lists of at most `size`, for `IN (...)` lists of bounded length."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


# --- the pool ----------------------------------------------------------------------------------


def accepted_pool(call: Call) -> Any:
    """The call's accepted pool entries of available reviewers (with their Reviewer), by id:
    the only reviewers that receive work."""
    return (
        ReviewerPoolEntry.select(ReviewerPoolEntry, Reviewer)
        .join(Reviewer)
        .where(
            ReviewerPoolEntry.call == call.id,
            ReviewerPoolEntry.invitation_status == InvitationStatus.ACCEPTED,
            Reviewer.available_for_reviews == True,  # noqa: E712 (SQL, not Python)
        )
        .order_by(ReviewerPoolEntry.id)
    )


# --- blocking conflicts ------------------------------------------------------------------------


def blocks() -> Expression:
    """The condition on ConflictOfInterest of a conflict that blocks its (reviewer, proposal)
    pair: pending or recused (domain.md; dismissed and waived do not block)."""
    return ConflictOfInterest.status.in_(list(BLOCKING_COI_STATUSES))


def blocking_conflict_ids(
    proposal_ids: Collection[int], reviewer_ids: Collection[int] | None = None
) -> dict[Pair, list[int]]:
    """(reviewer, proposal) -> ids of the blocking conflict records of the pair, for these
    proposals (and these reviewers; None: any reviewer). Pairs without one are absent."""
    found: dict[Pair, list[int]] = defaultdict(list)
    for chunk in id_chunks(sorted(set(proposal_ids))):
        query = ConflictOfInterest.select(
            ConflictOfInterest.reviewer, ConflictOfInterest.proposal, ConflictOfInterest.id
        ).where(ConflictOfInterest.proposal.in_(chunk), blocks())
        if reviewer_ids is not None:
            query = query.where(ConflictOfInterest.reviewer.in_(list(reviewer_ids)))
        for reviewer, proposal, coi in query.tuples():
            found[(reviewer, proposal)].append(coi)
    return dict(found)


def blocking_conflicts(reviewer_ids: Collection[int], proposal_ids: Collection[int]) -> set[Pair]:
    """(reviewer, proposal) pairs with a pending or recused conflict of interest."""
    return set(blocking_conflict_ids(proposal_ids, reviewer_ids))


def blocking_pairs(pairs: set[Pair]) -> dict[Pair, list[int]]:
    """Of these (reviewer, proposal) pairs, those with blocking COIs -> the COI record ids."""
    found = blocking_conflict_ids({proposal for _, proposal in pairs})
    return {pair: ids for pair, ids in found.items() if pair in pairs}


def reviewer_conflict_ids(reviewer_id: int, proposal_ids: Sequence[int]) -> dict[int, list[int]]:
    """proposal id -> ids of the blocking conflict records between it and the reviewer."""
    found = blocking_conflict_ids(proposal_ids, [reviewer_id])
    return {proposal: ids for (_, proposal), ids in found.items()}


def reviewers_in_conflict(proposal_id: int) -> set[int]:
    """The reviewers with a blocking conflict of interest with the proposal."""
    return {reviewer for reviewer, _ in blocking_conflict_ids([proposal_id])}


def linked_conflict_counts(item_ids: list[int]) -> dict[int, int]:
    """item id -> how many conflict records are linked to it, whatever their status (Waldur's
    `coi_count`: a dismissed, waived or overridden conflict stays on the record)."""
    if not item_ids:
        return {}
    query = (
        ItemConflict.select(ItemConflict.item, fn.COUNT(1))
        .where(ItemConflict.item.in_(item_ids))
        .group_by(ItemConflict.item)
        .tuples()
    )
    return {int(item_id): int(n) for item_id, n in query}


# --- "the reviewer already has this proposal" --------------------------------------------------


class ItemRule(Enum):
    """Which assignment items of a proposal mean their reviewer has it."""

    ANY = "any"  # any status, any batch: a decliner or a past reviewer keeps it
    HOLDING = "holding"  # pending or accepted, in any batch
    OPEN = "open"  # pending in a draft or sent batch, or accepted (what workload counts)

    def condition(self) -> Expression | None:
        if self is ItemRule.HOLDING:
            return AssignmentItem.status.in_(list(HOLDING_ITEMS))
        if self is ItemRule.OPEN:
            pending = AssignmentItem.status == ItemStatus.PENDING
            return (pending & AssignmentBatch.status.in_(list(OPEN_BATCHES))) | (
                AssignmentItem.status == ItemStatus.ACCEPTED
            )
        return None


class ReviewRule(Enum):
    """Which reviews of a proposal mean their reviewer has it."""

    NAMED = "named"  # any review that names the reviewer, whatever its state
    ASSIGNED = "assigned"  # a review not `unassigned` (in review, submitted or rejected)
    ACTIVE = "active"  # in review or submitted

    def condition(self) -> Expression | None:
        if self is ReviewRule.ASSIGNED:
            return Review.state != ReviewState.UNASSIGNED
        if self is ReviewRule.ACTIVE:
            return Review.state.in_(list(HOLDING_REVIEW_STATES))
        return None


@dataclass(frozen=True)
class HeldRule:
    """What makes a reviewer "already have" a proposal: which items, which reviews."""

    items: ItemRule
    reviews: ReviewRule


#: reassignment (domain.md: "no item of any status for that proposal"; a decliner never gets
#: it back): any item, any review naming the reviewer
EVER_HELD = HeldRule(ItemRule.ANY, ReviewRule.NAMED)
#: manual assignment and generate's exclusions: any item, any review that is not unassigned
EVER_ASSIGNED = HeldRule(ItemRule.ANY, ReviewRule.ASSIGNED)
#: bulk assign (seeds/004): a pending or accepted item, a review that is not unassigned
HOLDS_NOW = HeldRule(ItemRule.HOLDING, ReviewRule.ASSIGNED)
#: generate's demand (the reviewers a proposal has towards its k): a pending item of an open
#: batch, an accepted item, a review in review or submitted
FILLS_A_SEAT = HeldRule(ItemRule.OPEN, ReviewRule.ACTIVE)


def held_items(
    rule: HeldRule,
    *fields: Any,
    proposal_ids: Collection[int],
    reviewer_ids: Collection[int] | None = None,
) -> Any:
    """SELECT `fields` of the items of these proposals that `rule` counts, joined to their
    batch and pool entry (so fields and further conditions may name either)."""
    query = (
        AssignmentItem.select(*fields)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(AssignmentItem.proposal.in_(list(proposal_ids)))
    )
    if reviewer_ids is not None:
        query = query.where(ReviewerPoolEntry.reviewer.in_(list(reviewer_ids)))
    condition = rule.items.condition()
    return query if condition is None else query.where(condition)


def held_reviews(
    rule: HeldRule,
    *fields: Any,
    proposal_ids: Collection[int],
    reviewer_ids: Collection[int] | None = None,
) -> Any:
    """SELECT `fields` of the reviews of these proposals, with a reviewer, that `rule` counts."""
    query = Review.select(*fields).where(
        Review.proposal.in_(list(proposal_ids)), Review.reviewer.is_null(False)
    )
    if reviewer_ids is not None:
        query = query.where(Review.reviewer.in_(list(reviewer_ids)))
    condition = rule.reviews.condition()
    return query if condition is None else query.where(condition)


def held_pairs(
    rule: HeldRule, proposal_ids: Collection[int], reviewer_ids: Collection[int] | None = None
) -> set[Pair]:
    """(reviewer, proposal) pairs of these proposals (and reviewers) that `rule` counts."""
    items = held_items(
        rule,
        ReviewerPoolEntry.reviewer,
        AssignmentItem.proposal,
        proposal_ids=proposal_ids,
        reviewer_ids=reviewer_ids,
    )
    reviews = held_reviews(
        rule, Review.reviewer, Review.proposal, proposal_ids=proposal_ids, reviewer_ids=reviewer_ids
    )
    return set(items.tuples()) | set(reviews.tuples())


def held_proposals(reviewer_ids: Collection[int], proposal_ids: Collection[int]) -> set[Pair]:
    """(reviewer, proposal) pairs where the reviewer already reviews or is invited to review it
    (HOLDS_NOW: bulk assign's rule)."""
    return held_pairs(HOLDS_NOW, proposal_ids, reviewer_ids)


@dataclass(frozen=True)
class Exclusions:
    """What keeps reviewers off proposals in a bulk assignment: blocking conflicts, and the
    proposals they already have (HOLDS_NOW)."""

    conflicts: set[Pair]
    held: set[Pair]


_CONFLICT, _HELD = 1, 2
#: The kind column as literals in the text: a parameter in a select list has no type to infer
#: in a prepared statement (PostgreSQL would take it as text).
_AS_CONFLICT, _AS_HELD = SQL(str(_CONFLICT)), SQL(str(_HELD))


def _exclusions_query() -> Any:
    conflicts = ConflictOfInterest.select(
        _AS_CONFLICT, ConflictOfInterest.reviewer, ConflictOfInterest.proposal
    ).where(
        among(ConflictOfInterest.proposal, "proposals"),
        among(ConflictOfInterest.reviewer, "reviewers"),
        blocks(),
    )
    items = (
        AssignmentItem.select(_AS_HELD, ReviewerPoolEntry.reviewer, AssignmentItem.proposal)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(
            among(AssignmentItem.proposal, "proposals"),
            among(ReviewerPoolEntry.reviewer, "reviewers"),
        )
    )
    reviews = Review.select(_AS_HELD, Review.reviewer, Review.proposal).where(
        among(Review.proposal, "proposals"), among(Review.reviewer, "reviewers")
    )
    item_rule, review_rule = HOLDS_NOW.items.condition(), HOLDS_NOW.reviews.condition()
    if item_rule is not None:
        items = items.where(item_rule)
    if review_rule is not None:
        reviews = reviews.where(review_rule)
    return conflicts + items + reviews  # UNION ALL


_EXCLUSIONS = CompiledQuery(_exclusions_query)


def bulk_exclusions(reviewer_ids: Collection[int], proposal_ids: Collection[int]) -> Exclusions:
    """`blocking_conflicts` and `held_proposals` of these reviewers and proposals, read in one
    statement of constant text (store/compiled.py): the hot path of bulk assignment."""
    found = Exclusions(set(), set())
    if not reviewer_ids or not proposal_ids:
        return found
    rows = _EXCLUSIONS.tuples(proposals=list(proposal_ids), reviewers=list(reviewer_ids))
    for kind, reviewer, proposal in rows:
        (found.conflicts if kind == _CONFLICT else found.held).add((reviewer, proposal))
    return found


def current_reviewers(proposal_ids: Sequence[int]) -> dict[int, set[int]]:
    """proposal id -> reviewers it already has (FILLS_A_SEAT: generate's demand): pending items
    of open batches, accepted items, reviews held in review or submitted."""
    found: dict[int, set[int]] = defaultdict(set)
    if not proposal_ids:
        return found
    for reviewer_id, proposal_id in held_pairs(FILLS_A_SEAT, proposal_ids):
        found[proposal_id].add(reviewer_id)
    return found


def reviewers_with_proposal(proposal_id: int) -> set[int]:
    """Reviewers who have (had) an item of any status for the proposal, or a review of it
    (EVER_HELD: reassignment's rule)."""
    return {reviewer for reviewer, _ in held_pairs(EVER_HELD, [proposal_id])}


def entry_held_proposals(
    entry: ReviewerPoolEntry, proposal_ids: Sequence[int]
) -> dict[int, set[int]]:
    """proposal id -> ids of the batches where the pool entry has an item for it (any status,
    any batch); an empty set when the reviewer holds a review of it instead (EVER_ASSIGNED:
    manual assignment's rule)."""
    items = held_items(
        EVER_ASSIGNED, AssignmentItem.proposal, AssignmentItem.batch, proposal_ids=proposal_ids
    ).where(AssignmentBatch.reviewer_pool_entry == entry.id)
    reviews = held_reviews(
        EVER_ASSIGNED, Review.proposal, proposal_ids=proposal_ids, reviewer_ids=[entry.reviewer_id]
    )
    held: dict[int, set[int]] = {p: set() for (p,) in reviews.tuples()}
    for proposal_id, batch_id in items.tuples():
        held.setdefault(proposal_id, set()).add(batch_id)
    return held


def excluded_pairs(call: Call, proposal_ids: Sequence[int]) -> dict[Pair, ExclusionKind]:
    """(reviewer, proposal) pairs generate must not propose, with why: a blocking COI, a
    decline, or (EVER_ASSIGNED) any item of the call or non-empty review for that proposal."""
    out: dict[Pair, ExclusionKind] = {}
    fields = (ReviewerPoolEntry.reviewer, AssignmentItem.proposal, AssignmentItem.status)
    items = held_items(EVER_ASSIGNED, *fields, proposal_ids=proposal_ids)
    for reviewer_id, proposal_id, status in items.where(AssignmentBatch.call == call.id).tuples():
        declined = ItemStatus(status) == ItemStatus.DECLINED
        if out.get((reviewer_id, proposal_id)) != ExclusionKind.DECLINED:
            kind = ExclusionKind.DECLINED if declined else ExclusionKind.HAS_ITEM
            out[(reviewer_id, proposal_id)] = kind
    reviews = held_reviews(
        EVER_ASSIGNED, Review.reviewer, Review.proposal, proposal_ids=proposal_ids
    )
    for pair in reviews.tuples():
        out.setdefault(pair, ExclusionKind.HAS_ITEM)
    for pair in blocking_conflict_ids(proposal_ids):
        out[pair] = ExclusionKind.CONFLICT
    return out


# --- affinities --------------------------------------------------------------------------------


def affinity_scores(
    proposal_ids: Collection[int],
    *,
    reviewer_ids: Collection[int] | None = None,
    call_id: int | None = None,
) -> dict[Pair, float]:
    """Known affinity per (reviewer, proposal) of these proposals (and these reviewers, and
    rows of this call; None: any); pairs without a row are absent."""
    out: dict[Pair, float] = {}
    # in the caller's order: generate hands the engine its candidates in this order
    for chunk in id_chunks(list(dict.fromkeys(proposal_ids))):
        query = Affinity.select(Affinity.reviewer, Affinity.proposal, Affinity.score).where(
            Affinity.proposal.in_(chunk)
        )
        if reviewer_ids is not None:
            query = query.where(Affinity.reviewer.in_(list(reviewer_ids)))
        if call_id is not None:
            query = query.where(Affinity.call == call_id)
        out.update({(r, p): float(s) for r, p, s in query.tuples()})
    return out


def conflict_counts_by_severity(
    pairs: Collection[tuple[int, int]],
) -> dict[tuple[int, int], dict[str, int]]:
    """(call id, reviewer id) -> {severity: how many conflict records}, whatever their status
    (Waldur's pool `coi_by_severity`), for these pairs."""
    if not pairs:
        return {}
    wanted = set(pairs)
    query = (
        ConflictOfInterest.select(
            ConflictOfInterest.call,
            ConflictOfInterest.reviewer,
            ConflictOfInterest.severity,
            fn.COUNT(ConflictOfInterest.id),
        )
        .where(
            ConflictOfInterest.call.in_(list({c for c, _ in wanted})),
            ConflictOfInterest.reviewer.in_(list({r for _, r in wanted})),
        )
        .group_by(ConflictOfInterest.call, ConflictOfInterest.reviewer, ConflictOfInterest.severity)
        .tuples()
    )
    out: dict[tuple[int, int], dict[str, int]] = {}
    for call_id, reviewer_id, severity, n in query:
        pair = (int(call_id), int(reviewer_id))
        if pair in wanted:
            out.setdefault(pair, {})[str(severity)] = int(n)
    return out


def reviewer_attributes(reviewer_ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(reviewer id, attribute, value) of each reviewer record: its organization and every
    key of its `attributes` (for a call's attribute constraints)."""
    found = Reviewer.select(Reviewer.id, Reviewer.organization, Reviewer.attributes).where(
        Reviewer.id.in_(list(reviewer_ids))
    )
    return [
        (r.id, key, str(value))
        for r in found
        for key, value in [("organization", r.organization), *r.attributes.items()]
    ]
