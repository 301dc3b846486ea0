"""The four strategies of seeds/004's bulk assign, over plain data.

Reviews are "targets" (demand 1) and the request's pool is an ordered list of reviewers.
A reviewer may be ineligible for a target (conflict of interest, already reviewing that
proposal, unavailable); eligibility and capacity are decided by the caller and passed in.
No strategy gives one reviewer two reviews of the same proposal within a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from matching.problem import MatchingProblem, Pairs, Reviewers, Targets, int_array
from matching.reasons import Algorithm
from matching.residual import SolveOptions
from matching.solve import solve

#: The convex load cost of `expertise_based` with considerWorkload: each assignment costs this
#: much affinity per open assignment the reviewer already has (counting this request), so a
#: reviewer with 20 more open reviews needs 1.0 more affinity to be preferred.
LOAD_COST_PER_OPEN_ASSIGNMENT = 0.05


class Ineligibility(StrEnum):
    CONFLICT = "conflict of interest"
    SAME_PROPOSAL = "already reviews this proposal"
    UNAVAILABLE = "not available for reviews"


@dataclass(frozen=True)
class BulkTarget:
    """One review to assign."""

    proposal: int
    #: reviewer index -> why that reviewer may not take this review
    ineligible: Mapping[int, Ineligibility] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkReviewer:
    """One reviewer of the request's pool, in pool order."""

    label: str
    workload: int
    #: the most open assignments this reviewer may have, None for no limit
    max_workload: int | None = None


@dataclass
class BulkOutcome:
    """Target index -> reviewer index for the assigned; target index -> reason for the rest."""

    assigned: dict[int, int] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)
    #: round robin: where the next request continues the rotation
    next_position: int = 0


class _Loads:
    """Workload so far (counting this request) and the proposals each reviewer took."""

    def __init__(self, reviewers: Sequence[BulkReviewer]) -> None:
        self.reviewers = reviewers
        self.load = [r.workload for r in reviewers]
        self.proposals: list[set[int]] = [set() for _ in reviewers]

    def has_room(self, r: int) -> bool:
        cap = self.reviewers[r].max_workload
        return cap is None or self.load[r] < cap

    def why_not(self, target: BulkTarget, r: int) -> str | None:
        label = self.reviewers[r].label
        reason = target.ineligible.get(r)
        if reason is None and target.proposal in self.proposals[r]:
            reason = Ineligibility.SAME_PROPOSAL
        if reason is not None:
            return f"Reviewer {label}: {reason.value}"
        if not self.has_room(r):
            cap = self.reviewers[r].max_workload
            return f"Reviewer {label} is at capacity (maxPerReviewer {cap})"
        return None

    def take(self, target: BulkTarget, r: int) -> None:
        self.load[r] += 1
        self.proposals[r].add(target.proposal)


def _pool_failure(target: BulkTarget, loads: _Loads) -> str:
    """Why no reviewer of the pool could take `target`."""
    eligible = [
        r
        for r in range(len(loads.reviewers))
        if r not in target.ineligible and target.proposal not in loads.proposals[r]
    ]
    if eligible:
        return "All eligible reviewers in the pool are at capacity"
    reasons = sorted({reason.value for reason in target.ineligible.values()})
    detail = f" ({', '.join(reasons)})" if reasons else ""
    return f"No eligible reviewer in the pool{detail}"


def assign_specific(
    targets: Sequence[BulkTarget], reviewers: Sequence[BulkReviewer]
) -> BulkOutcome:
    """Review i goes to reviewers[i mod n]; a blocked or full pair fails with its reason."""
    loads, outcome = _Loads(reviewers), BulkOutcome()
    for i, target in enumerate(targets):
        r = i % len(reviewers)
        reason = loads.why_not(target, r)
        if reason is None:
            loads.take(target, r)
            outcome.assigned[i] = r
        else:
            outcome.failures[i] = reason
    return outcome


def assign_round_robin(
    targets: Sequence[BulkTarget], reviewers: Sequence[BulkReviewer], start: int = 0
) -> BulkOutcome:
    """Cycle through the pool from `start`, skipping reviewers that are blocked or full."""
    loads, outcome = _Loads(reviewers), BulkOutcome()
    n = len(reviewers)
    position = start % n
    for i, target in enumerate(targets):
        for step in range(n):
            r = (position + step) % n
            if loads.why_not(target, r) is None:
                loads.take(target, r)
                outcome.assigned[i] = r
                position = (r + 1) % n
                break
        else:
            outcome.failures[i] = _pool_failure(target, loads)
    outcome.next_position = position
    return outcome


def assign_load_balanced(
    targets: Sequence[BulkTarget], reviewers: Sequence[BulkReviewer]
) -> BulkOutcome:
    """Each review to the eligible reviewer with the lowest workload so far; ties by pool order."""
    loads, outcome = _Loads(reviewers), BulkOutcome()
    for i, target in enumerate(targets):
        eligible = [r for r in range(len(reviewers)) if loads.why_not(target, r) is None]
        if not eligible:
            outcome.failures[i] = _pool_failure(target, loads)
            continue
        r = min(eligible, key=lambda c: (loads.load[c], c))
        loads.take(target, r)
        outcome.assigned[i] = r
    return outcome


def assign_expertise_based(
    targets: Sequence[BulkTarget],
    reviewers: Sequence[BulkReviewer],
    scores: Mapping[tuple[int, int], float],
    *,
    consider_workload: bool = True,
) -> BulkOutcome:
    """Maximise the number of reviews assigned, then their total affinity, in one exact solve.

    The engine's `optimal` min-cost flow over every eligible (review, reviewer) pair (a missing
    score counts as 0); reviews of one proposal share a reviewer limit of one. With
    `consider_workload` the k-th new assignment of a reviewer costs
    LOAD_COST_PER_OPEN_ASSIGNMENT x (workload + k), a convex cost, so busy reviewers are used less.
    """
    outcome = BulkOutcome()
    if not targets:
        return outcome
    result = solve(
        _expertise_problem(targets, reviewers, scores),
        Algorithm.OPTIMAL,
        options=SolveOptions(
            load_weight=LOAD_COST_PER_OPEN_ASSIGNMENT if consider_workload else 0.0
        ),
    )
    loads = _Loads(reviewers)
    for i, r in sorted(
        zip(result.pairs.target.tolist(), result.pairs.reviewer.tolist(), strict=True)
    ):
        loads.take(targets[i], r)
        outcome.assigned[i] = r
    for i, target in enumerate(targets):
        if i not in outcome.assigned:
            outcome.failures[i] = _pool_failure(target, loads)
    return outcome


def _expertise_problem(
    targets: Sequence[BulkTarget],
    reviewers: Sequence[BulkReviewer],
    scores: Mapping[tuple[int, int], float],
) -> MatchingProblem:
    pairs = [
        (i, r, scores.get((i, r), 0.0))
        for i, target in enumerate(targets)
        for r in range(len(reviewers))
        if r not in target.ineligible
    ]
    proposal_index: dict[int, int] = {}
    proposals = [proposal_index.setdefault(t.proposal, len(proposal_index)) for t in targets]
    capacity = [
        len(targets) if r.max_workload is None else max(0, r.max_workload - r.workload)
        for r in reviewers
    ]
    return MatchingProblem(
        targets=Targets(
            list(range(len(targets))), int_array(np.ones(len(targets))), int_array(proposals)
        ),
        reviewers=Reviewers(
            [r.label for r in reviewers],
            int_array(capacity),
            current_load=int_array([r.workload for r in reviewers]),
        ),
        candidates=Pairs.of([p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]),
    )
