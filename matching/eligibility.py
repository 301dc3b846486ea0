"""Which candidate pairs may be chosen at all, and why a target may come up short."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.problem import EXCLUSION_KINDS, IntArray, MatchingProblem, Pairs, int_array
from matching.reasons import ExclusionKind, ShortfallReason

_CONFLICT_CODE = EXCLUSION_KINDS.index(ExclusionKind.CONFLICT)


@dataclass(frozen=True)
class Eligibility:
    """The eligible pairs, sorted by (target, reviewer), one per pair (its highest score)."""

    pairs: Pairs
    #: distinct eligible reviewers per target, capacity not considered
    eligible_count: IntArray
    #: candidates per target removed because of a conflict of interest
    conflict_count: IntArray
    #: per target: distinct eligible reviewers over all targets of its proposal
    proposal_eligible_count: IntArray


def pair_keys(first: IntArray, second: IntArray, width: int) -> IntArray:
    return first * np.int64(max(width, 1)) + second


def dedupe_sorted(pairs: Pairs, n_reviewers: int) -> Pairs:
    """One pair per (target, reviewer), keeping the highest score, sorted by target, reviewer."""
    keys = pair_keys(pairs.target, pairs.reviewer, n_reviewers)
    if len(keys) < 2 or bool((keys[1:] > keys[:-1]).all()):
        return pairs  # already sorted and unique: the common case, checked in linear time
    order = np.lexsort((-pairs.score, keys))
    keys = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    keep = order[first]
    return Pairs(pairs.target[keep], pairs.reviewer[keep], pairs.score[keep])


def is_in(keys: IntArray, members: IntArray) -> NDArray[np.bool_]:
    """np.isin for a long `keys` and a short `members`: binary search, no sort of `keys`."""
    if len(members) == 0:
        return np.zeros(len(keys), dtype=bool)
    members = np.sort(members)
    where = np.minimum(np.searchsorted(members, keys), len(members) - 1)
    return np.asarray(members[where] == keys)


def eligible_pairs(problem: MatchingProblem, blocked: Pairs | None = None) -> Eligibility:
    """Candidates minus exclusions, minus (proposal, reviewer) combinations already in `blocked`.

    `blocked` holds fixed assignments of an incremental re-solve: their reviewer may take no
    other target of the same proposal.
    """
    n_t, n_r = len(problem.targets), len(problem.reviewers)
    cand = dedupe_sorted(problem.candidates, n_r)
    ex = problem.exclusions
    keys = pair_keys(cand.target, cand.reviewer, n_r)
    excluded = is_in(keys, pair_keys(ex.target, ex.reviewer, n_r))
    conflict_keys = pair_keys(ex.target, ex.reviewer, n_r)[ex.kind == _CONFLICT_CODE]
    conflicted = is_in(keys, conflict_keys)
    keep = ~excluded
    if blocked is not None and len(blocked):
        proposal = problem.targets.proposal
        taken = pair_keys(proposal[blocked.target], blocked.reviewer, n_r)
        keep &= ~is_in(pair_keys(proposal[cand.target], cand.reviewer, n_r), taken)
    pairs = Pairs(cand.target[keep], cand.reviewer[keep], cand.score[keep])
    return Eligibility(
        pairs=pairs,
        eligible_count=np.bincount(pairs.target, minlength=n_t).astype(np.int64),
        conflict_count=np.bincount(cand.target[conflicted], minlength=n_t).astype(np.int64),
        proposal_eligible_count=_proposal_eligible(problem, pairs),
    )


def _proposal_eligible(problem: MatchingProblem, pairs: Pairs) -> IntArray:
    proposal = problem.targets.proposal
    if len(proposal) == 0:
        return int_array([])
    if one_target_per_proposal(proposal):
        return np.bincount(pairs.target, minlength=len(proposal)).astype(np.int64)
    keys = np.unique(pair_keys(proposal[pairs.target], pairs.reviewer, len(problem.reviewers)))
    per_proposal = np.bincount(keys // max(len(problem.reviewers), 1), minlength=proposal.max() + 1)
    return int_array(per_proposal[proposal])


def one_target_per_proposal(proposal: IntArray) -> bool:
    """True when no two targets share a proposal (then no gates or grouping are needed)."""
    return len(np.unique(proposal)) == len(proposal)


def proposal_demand(problem: MatchingProblem, demand: IntArray) -> IntArray:
    """Per target: the total demand of all targets of its proposal."""
    proposal = problem.targets.proposal
    if len(proposal) == 0:
        return int_array([])
    return int_array(np.bincount(proposal, weights=demand, minlength=proposal.max() + 1)[proposal])


def shortfall_reason(
    eligibility: Eligibility, demand: IntArray, proposal_total: IntArray, target: int
) -> ShortfallReason:
    """The most specific reason why `target` cannot get or did not get its full demand."""
    eligible = int(eligibility.eligible_count[target])
    if eligible == 0:
        if eligibility.conflict_count[target] > 0:
            return ShortfallReason.CONFLICT
        return ShortfallReason.NO_ELIGIBLE
    too_few_for_proposal = eligibility.proposal_eligible_count[target] < proposal_total[target]
    if eligible < demand[target] or too_few_for_proposal:
        return ShortfallReason.TOO_FEW_ELIGIBLE
    return ShortfallReason.AT_CAPACITY
