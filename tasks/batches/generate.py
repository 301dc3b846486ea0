"""Generate assignments for a call: the matching engine proposes, draft batches record it.

One transaction locks the Call row first (two generates for one call run one after the other,
the second seeing what the first wrote), then the Reviewer and ReviewerPoolEntry rows of the
accepted pool (their workload and capacity), in the lock order of `store/locks.py`. The engine
gets every proposal still short of reviewers and every reviewer with room left; its pairs become
items of one `algorithm` draft batch per reviewer, reusing the draft the pool entry already has.

A call with no Affinity row at all (nothing imported, nothing computed yet) is scored first, in
the same transaction, under the Call lock: `tasks.imports.affinities` computes each proposal's best
COMPUTED_TOP_PER_PROPOSAL reviewers from the texts and stores them as `computed` rows, which
the solve then reads like imported ones. A call with any row is solved on what it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np

from matching import Exclusions, MatchingProblem, MatchingResult, Pairs, Reviewers, Targets, solve
from matching.attributes import ReviewerAttributes, constraints_of, solve_with_attributes
from matching.errors import ImpossibleConstraintError
from matching.problem import int_array
from store import Call, Proposal, Reviewer, ReviewerPoolEntry, User, write_transaction
from store.enums import ASSIGNABLE_PROPOSAL_STATES, Algorithm, BatchSource
from store.locks import lock_rows
from store.lookups import resolve_ids
from store.workload import workloads
from tasks.batches.create import BulkItem, add_items_bulk
from tasks.eligibility import (
    accepted_pool,
    affinity_scores,
    current_reviewers,
    excluded_pairs,
    reviewer_attributes,
)
from tasks.errors import ValidationFailed, not_assignable
from tasks.imports.affinities import call_has_affinities, store_call_affinities
from tasks.results import Generated, SkippedProposal
from tasks.rows import lock_managed_call
from tasks.rules import MAX_REVIEWERS_PER_PROPOSAL

#: above this many (proposal, reviewer) pairs, unscored pairs are sampled (see _candidates)
DENSE_PAIR_LIMIT = 2_000_000
ZERO_WINDOW = 64
#: a call without any Affinity row gets each proposal's best this many reviewers computed
COMPUTED_TOP_PER_PROPOSAL = 100


@dataclass(frozen=True)
class PoolMember:
    """An accepted pool entry of an available reviewer, with the room it has left."""

    entry: ReviewerPoolEntry
    capacity: int


def resolve_call_proposals(
    call: Call, tokens: Sequence[str], *, drop_unknown: bool = False
) -> list[Proposal]:
    """The call's proposals named by `tokens`, in input order, without repeats; with
    `drop_unknown`, ids that name no proposal at all are left out.

    ValidationFailed naming `proposal_uuids` if any belongs to another call, or (without
    `drop_unknown`) is unknown.
    """
    wanted = list(dict.fromkeys(str(t) for t in tokens))
    found, unknown = resolve_ids(Proposal, wanted)
    refused = [t for t, p in found.items() if p.call_id != call.id]
    if not drop_unknown:
        refused = unknown + refused
    if refused:
        message = f"not proposals of this call: {', '.join(refused)}"
        raise ValidationFailed([{"field": "proposal_uuids", "message": message}])
    return [found[t] for t in wanted if t in found]


def not_assignable_reason(proposal: Proposal) -> str:
    return not_assignable(proposal.state.value)


def generate_assignments(
    actor: User,
    call_uuid: str,
    proposal_uuids: Sequence[str] | None = None,
    reviewers_per_proposal: int | None = None,
    algorithm: str | None = None,
    now: datetime | None = None,
) -> Generated:
    """Fill every assignable proposal of the call (or of the subset) up to k reviewers.

    Guarantees: all or nothing, in one transaction; no reviewer above max_assignments in the
    call, no blocking COI, no reviewer twice on a proposal nor on one they have (had) an item or
    a review for; one `algorithm` draft per pool entry (an existing one is reused). Idempotent:
    a second run finds the proposals full and creates nothing. A call without affinities gets
    them computed first (see the module docstring). Proposals left short are named
    in `skipped` with the engine's reason; ids that name no proposal are ignored. Raises
    NotFound (call not visible to the actor) or ValidationFailed (a proposal of another call,
    k above MAX_REVIEWERS_PER_PROPOSAL, an unknown algorithm), writing nothing.
    """
    chosen_algorithm = _check_algorithm(algorithm)
    _check_k(reviewers_per_proposal)
    with write_transaction():
        call = lock_managed_call(actor, call_uuid)
        if not call_has_affinities(call.id):
            store_call_affinities(call, top_per_proposal=COMPUTED_TOP_PER_PROPOSAL)
        k = reviewers_per_proposal or call.reviewers_per_proposal
        proposals, skipped = _proposals_to_consider(call, proposal_uuids)
        pool = _lock_pool(call)
        result = _match(call, proposals, pool, k, chosen_algorithm or call.algorithm)
        batches, items = _persist(actor, pool, result)
    names = {p.id: p for p in proposals}
    skipped += [
        SkippedProposal(names[cast(int, result.problem.targets.ids[s.target])], s.reason.value)
        for s in result.shortfalls
    ]
    return Generated(batches, items, len(proposals), skipped)


def _check_algorithm(algorithm: str | None) -> Algorithm | None:
    if algorithm is None:
        return None
    try:
        return Algorithm(algorithm)
    except ValueError:
        choices = "|".join(a.value for a in Algorithm)
        message = f"unknown algorithm {algorithm!r}; use {choices}"
        raise ValidationFailed([{"field": "algorithm", "message": message}]) from None


def _check_k(k: int | None) -> None:
    if k is None:
        return
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_REVIEWERS_PER_PROPOSAL:
        message = f"must be an integer from 1 to {MAX_REVIEWERS_PER_PROPOSAL}"
        raise ValidationFailed([{"field": "reviewers_per_proposal", "message": message}])


def _proposals_to_consider(
    call: Call, tokens: Sequence[str] | None
) -> tuple[list[Proposal], list[SkippedProposal]]:
    """Assignable proposals (by id), and the named ones that are not assignable, as skipped.
    No ids (None or empty) means every proposal of the call; ids of no proposal at all are
    filtered out, as Waldur filters them (so only unknown ids: nothing to process)."""
    if not tokens:
        query = Proposal.select().where(
            Proposal.call == call.id, Proposal.state.in_(list(ASSIGNABLE_PROPOSAL_STATES))
        )
        return list(query.order_by(Proposal.id)), []
    named = resolve_call_proposals(call, tokens, drop_unknown=True)
    ok = [p for p in named if p.state in ASSIGNABLE_PROPOSAL_STATES]
    skipped = [SkippedProposal(p, not_assignable_reason(p)) for p in named if p not in ok]
    return sorted(ok, key=lambda p: p.id), skipped


def _lock_pool(call: Call) -> list[PoolMember]:
    """Accepted pool entries of available reviewers, locked (Reviewer rows, then entries) and
    read again, with capacity = max_assignments minus the reviewer's workload in this call."""
    seen = list(accepted_pool(call))
    lock_rows(Reviewer, [e.reviewer_id for e in seen])
    lock_rows(ReviewerPoolEntry, [e.id for e in seen])
    locked_ids = {e.id for e in seen}
    entries = [e for e in accepted_pool(call) if e.id in locked_ids]
    load = workloads([e.reviewer_id for e in entries], call_id=call.id)
    return [PoolMember(e, max(e.max_assignments - load[e.reviewer_id], 0)) for e in entries]


def _match(
    call: Call,
    proposals: Sequence[Proposal],
    pool: Sequence[PoolMember],
    k: int,
    algorithm: Algorithm,
) -> MatchingResult:
    have = current_reviewers([p.id for p in proposals])
    demand = {p.id: k - len(have.get(p.id, ())) for p in proposals}
    target_ids = [p.id for p in proposals if demand[p.id] > 0]
    reviewer_ids = [m.entry.reviewer_id for m in pool]
    problem = MatchingProblem(
        targets=Targets(
            target_ids,
            int_array([demand[p] for p in target_ids]),
            int_array(np.arange(len(target_ids))),
        ),
        reviewers=Reviewers(reviewer_ids, int_array([m.capacity for m in pool])),
        candidates=_candidates(call, target_ids, reviewer_ids),
        exclusions=_exclusions(call, target_ids, reviewer_ids),
    )
    if call.attribute_constraints and target_ids:
        return _solve_with_attributes(call, problem)
    return solve(problem, algorithm)


def _solve_with_attributes(call: Call, problem: MatchingProblem) -> MatchingResult:
    """The call's attribute constraints (matching/attributes.py) over the reviewer records:
    `organization` and every key of `attributes`. Impossible ones name the proposal."""
    field = "attribute_constraints"
    try:
        constraints = constraints_of(call.attribute_constraints)
        rows = reviewer_attributes(cast(Sequence[int], problem.reviewers.ids))
        found = ReviewerAttributes.of(problem.reviewers.ids, rows)
        return solve_with_attributes(problem, found, constraints, costs=False).result
    except ImpossibleConstraintError as exc:
        raise ValidationFailed([{"field": field, "message": m} for m in exc.messages]) from exc
    except ValueError as exc:
        raise ValidationFailed([{"field": field, "message": str(exc)}]) from exc


def _candidates(call: Call, target_ids: Sequence[int], reviewer_ids: Sequence[int]) -> Pairs:
    """Every (target, reviewer) scoring at least the call's threshold. With a zero threshold
    every pair is a candidate, those without an Affinity row at 0.0; above DENSE_PAIR_LIMIT
    pairs, each target gets unscored candidates from a rotating window of ZERO_WINDOW
    reviewers only, so memory grows with targets x window, not targets x reviewers."""
    n_t, n_r = len(target_ids), len(reviewer_ids)
    r_index = {r: j for j, r in enumerate(reviewer_ids)}
    t_index = {p: i for i, p in enumerate(target_ids)}
    known = [
        (t_index[p], r_index[r], s)
        for (r, p), s in affinity_scores(target_ids, call_id=call.id).items()
        if r in r_index and s >= call.min_affinity_threshold
    ]
    scored = Pairs.of([t for t, _, _ in known], [r for _, r, _ in known], [s for *_, s in known])
    if call.min_affinity_threshold > 0 or n_t * n_r == 0:
        return scored
    window = n_r if n_t * n_r <= DENSE_PAIR_LIMIT else min(n_r, ZERO_WINDOW)
    targets = np.repeat(np.arange(n_t, dtype=np.int64), window)
    offsets = np.tile(np.arange(window, dtype=np.int64), n_t)
    reviewers = (targets * window + offsets) % n_r if window < n_r else offsets
    # the engine keeps the highest score of a repeated pair: known scores win over 0.0
    return Pairs.of(
        np.concatenate([scored.target, targets]),
        np.concatenate([scored.reviewer, reviewers]),
        np.concatenate([scored.score, np.zeros(len(targets))]),
    )


def _exclusions(call: Call, target_ids: Sequence[int], reviewer_ids: Sequence[int]) -> Exclusions:
    r_index = {r: j for j, r in enumerate(reviewer_ids)}
    t_index = {p: i for i, p in enumerate(target_ids)}
    rows = [
        (t_index[p], r_index[r], kind)
        for (r, p), kind in sorted(excluded_pairs(call, target_ids).items())
        if r in r_index
    ]
    return Exclusions.of([t for t, _, _ in rows], [r for _, r, _ in rows], [k for *_, k in rows])


def _persist(actor: User, pool: Sequence[PoolMember], result: MatchingResult) -> tuple[int, int]:
    """Write the chosen pairs as items of one algorithm draft per reviewer (see
    `tasks.batches.create.add_items_bulk`); returns (batches created, items created)."""
    entries = {m.entry.reviewer_id: m.entry for m in pool}
    t_ids, r_ids, p = result.problem.targets.ids, result.problem.reviewers.ids, result.pairs
    planned = [
        BulkItem(entries[cast(int, r_ids[r])], cast(int, t_ids[t]), s)
        for t, r, s in zip(p.target.tolist(), p.reviewer.tolist(), p.score.tolist(), strict=True)
    ]
    return add_items_bulk(planned, source=BatchSource.ALGORITHM, created_by_id=actor.id)
