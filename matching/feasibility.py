"""Feasibility diagnosis before solving: supply against demand, targets that cannot be filled."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from matching.eligibility import proposal_demand, shortfall_reason
from matching.problem import IntArray, MatchingProblem, Pairs
from matching.reasons import ShortfallReason
from matching.residual import Residual, SolveOptions, residual_of


@dataclass(frozen=True)
class Diagnosis:
    """What is visibly infeasible before any solver runs (necessary conditions only)."""

    total_demand: int
    total_capacity: int
    #: sum over reviewers of min(capacity, number of targets they are eligible for)
    usable_capacity: int
    #: targets with fewer eligible reviewers than demand, and why
    short_targets: dict[int, ShortfallReason]
    #: proposals whose targets together have fewer distinct eligible reviewers than demand
    proposals_short: int = 0
    #: reviewers whose minimum load exceeds what they can take: reviewer -> (minimum, most)
    min_load_short: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: the sum of the minimum loads (0 without minimum loads)
    total_min_load: int = 0

    def impossible(self, reviewer_ids: Sequence[Hashable] = ()) -> tuple[str, ...]:
        """The constraints of the input that no assignment can meet (minimum loads): each
        message names the reviewer (by id, if `reviewer_ids` are given) or the totals."""
        out = [
            f"reviewer {reviewer_ids[r] if reviewer_ids else r}: minimum load {need} cannot "
            f"be met: at most {most} possible "
            "(eligible proposals and capacity)"
            for r, (need, most) in sorted(self.min_load_short.items())
        ]
        if self.total_min_load > self.total_demand:
            out.append(
                f"minimum loads add up to {self.total_min_load}, more than the demand "
                f"{self.total_demand}"
            )
        return tuple(out)

    @property
    def feasible(self) -> bool:
        return (
            not self.short_targets
            and not self.proposals_short
            and self.usable_capacity >= self.total_demand
        )

    def messages(self) -> tuple[str, ...]:
        out: list[str] = []
        if self.total_capacity < self.total_demand:
            gap = self.total_demand - self.total_capacity
            out.append(
                f"demand {self.total_demand} exceeds total reviewer capacity "
                f"{self.total_capacity} by {gap}"
            )
        elif self.usable_capacity < self.total_demand:
            out.append(
                f"demand {self.total_demand} exceeds the capacity eligible reviewers can use "
                f"({self.usable_capacity})"
            )
        by_reason: dict[ShortfallReason, int] = {}
        for reason in self.short_targets.values():
            by_reason[reason] = by_reason.get(reason, 0) + 1
        for reason, count in sorted(by_reason.items(), key=lambda rc: rc[0].value):
            out.append(f"{count} target(s) cannot be filled: {reason.value}")
        if self.proposals_short:
            out.append(
                f"{self.proposals_short} proposal(s) have fewer distinct eligible reviewers "
                "than their targets need"
            )
        return tuple(out)


def diagnose(residual: Residual) -> Diagnosis:
    """Compare supply with demand and find the targets short of eligible reviewers."""
    elig = residual.eligibility
    demand = residual.demand
    n_r = len(residual.capacity)
    degree = np.bincount(elig.pairs.reviewer, minlength=n_r)
    proposal_total = proposal_demand(residual.problem, demand)
    short = {
        int(t): shortfall_reason(elig, demand, proposal_total, int(t))
        for t in np.flatnonzero(elig.eligible_count < demand)
    }
    # Worth saying only where each target alone has enough eligible reviewers, but they share them.
    alone_ok = (elig.eligible_count >= demand) & (demand > 0)
    proposal_short = (elig.proposal_eligible_count < proposal_total) & alone_ok
    proposal = residual.proposal[proposal_short]
    min_short, total_min = _min_loads(residual, degree)
    return Diagnosis(
        total_demand=int(demand.sum()),
        total_capacity=int(residual.capacity.sum()),
        usable_capacity=int(np.minimum(residual.capacity, degree).sum()),
        short_targets=short,
        proposals_short=len(np.unique(proposal)),
        min_load_short=min_short,
        total_min_load=total_min,
    )


def _min_loads(residual: Residual, degree: IntArray) -> tuple[dict[int, tuple[int, int]], int]:
    """Reviewers whose minimum load (less what they already hold) exceeds the most they can
    take: min(capacity, distinct eligible proposals)."""
    reviewers = residual.problem.reviewers
    if reviewers.min_load is None:
        return {}, 0
    held = np.bincount(residual.fixed.reviewer, minlength=len(reviewers))
    need = np.maximum(reviewers.min_load - held, 0)
    most = np.minimum(residual.capacity, degree)
    short = np.flatnonzero(need > most)
    return {int(r): (int(need[r]), int(most[r])) for r in short}, int(need.sum())


def diagnose_problem(problem: MatchingProblem, fixed: Pairs | None = None) -> Diagnosis:
    """`diagnose` straight from a problem (and the assignments to keep, if any)."""
    return diagnose(residual_of(problem, fixed or Pairs.empty(), SolveOptions()))
