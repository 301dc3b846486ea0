"""Figures that describe an assignment: affinity totals, per-proposal scores, loads."""

from __future__ import annotations

import numpy as np

from matching.problem import FloatArray, MatchingProblem, Pairs
from matching.result import MatchingMetrics


def proposal_scores(problem: MatchingProblem, pairs: Pairs) -> FloatArray:
    """Sum of chosen affinities per proposal that has any demand, in proposal-index order."""
    proposal = problem.targets.proposal
    if len(proposal) == 0:
        return np.zeros(0)
    size = int(proposal.max()) + 1
    sums = np.bincount(proposal[pairs.target], weights=pairs.score, minlength=size)
    wanted = np.bincount(proposal, weights=problem.targets.demand, minlength=size) > 0
    return np.asarray(sums[wanted], dtype=np.float64)


def compute_metrics(
    problem: MatchingProblem, pairs: Pairs, solve_seconds: float
) -> MatchingMetrics:
    """Metrics of `pairs` (fixed and new together) for `problem`."""
    per_proposal = proposal_scores(problem, pairs)
    loads = np.bincount(pairs.reviewer, minlength=len(problem.reviewers))
    total = float(pairs.score.sum())
    has_props, has_loads = len(per_proposal) > 0, len(loads) > 0
    return MatchingMetrics(
        total=total,
        mean=total / len(pairs) if len(pairs) else 0.0,
        min_proposal_score=float(per_proposal.min()) if has_props else 0.0,
        p10_proposal_score=float(np.percentile(per_proposal, 10)) if has_props else 0.0,
        median_proposal_score=float(np.median(per_proposal)) if has_props else 0.0,
        load_min=int(loads.min()) if has_loads else 0,
        load_max=int(loads.max()) if has_loads else 0,
        load_std=float(loads.std()) if has_loads else 0.0,
        assigned=len(pairs),
        demand=int(problem.targets.demand.sum()),
        solve_seconds=solve_seconds,
    )
