"""Alternates: per target, the best eligible reviewers it did not get (OpenReview's
alternates.json), and the one ranking rule the engine's reassignment uses too.

Rank: highest score first, then the lowest load (current plus new), then the lower reviewer
index (or the caller's own tie-break), so equal inputs give equal lists.
"""

from __future__ import annotations

import numpy as np

from matching.eligibility import eligible_pairs
from matching.problem import FloatArray, IntArray, Pairs, int_array
from matching.result import MatchingResult


def rank_order(target: IntArray, score: FloatArray, load: IntArray, tiebreak: IntArray) -> IntArray:
    """The permutation that groups pairs by target and ranks each group by the rule above."""
    return int_array(np.lexsort((tiebreak, load, -score, target)))


def alternates(result: MatchingResult, per_target: int) -> Pairs:
    """Up to `per_target` alternates per target: eligible (a candidate, not excluded, not
    already on the proposal), not chosen, ranked; sorted by target, then rank. Capacity is not
    required (an alternate is whom to ask next: its load is in the ranking)."""
    problem = result.problem
    if per_target <= 0:
        return Pairs.empty()
    # blocked: a reviewer chosen for a proposal is no alternate for any target of it
    pairs = eligible_pairs(problem, blocked=result.pairs).pairs
    n_r = len(problem.reviewers)
    current = problem.reviewers.current_load
    load = np.bincount(result.pairs.reviewer, minlength=n_r)
    if current is not None:
        load = load + current
    order = rank_order(pairs.target, pairs.score, int_array(load[pairs.reviewer]), pairs.reviewer)
    t = pairs.target[order]
    rank = np.arange(len(t)) - np.searchsorted(t, t)
    keep = order[rank < per_target]
    return Pairs(pairs.target[keep], pairs.reviewer[keep], pairs.score[keep])
