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
from ortools.graph.python import min_cost_flow

#: Score precision of the exact solver: scores are integers in units of 1e-6.
SCORE_SCALE = 1_000_000
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

    A min-cost flow: source -> review -> (reviewer, proposal) gate of capacity 1 -> reviewer ->
    sink through one arc per free slot. With `consider_workload` the k-th new slot of a reviewer
    costs LOAD_COST_PER_OPEN_ASSIGNMENT x (workload + k), a convex cost, so busy reviewers are
    used less. An overflow arc source -> sink, dearer than any assignment saves, carries the
    reviews nobody can take. Missing scores count as 0.
    """
    outcome = BulkOutcome()
    if not targets:
        return outcome
    graph = _ExpertiseFlow(targets, reviewers, scores, consider_workload)
    assigned = graph.solve()
    loads = _Loads(reviewers)
    for i, r in sorted(assigned.items()):
        loads.take(targets[i], r)
        outcome.assigned[i] = r
    for i, target in enumerate(targets):
        if i not in outcome.assigned:
            outcome.failures[i] = _pool_failure(target, loads)
    return outcome


class _ExpertiseFlow:
    """The flow network of `assign_expertise_based`, built from arrays and solved once."""

    def __init__(
        self,
        targets: Sequence[BulkTarget],
        reviewers: Sequence[BulkReviewer],
        scores: Mapping[tuple[int, int], float],
        consider_workload: bool,
    ) -> None:
        self.targets, self.reviewers = targets, reviewers
        self.scores, self.consider_workload = scores, consider_workload
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.caps: list[int] = []
        self.costs: list[int] = []
        self.pair_arcs: dict[int, tuple[int, int]] = {}  # arc index -> (target, reviewer)

    def _arc(self, tail: int, head: int, cap: int, cost: int) -> int:
        self.tails.append(tail)
        self.heads.append(head)
        self.caps.append(cap)
        self.costs.append(cost)
        return len(self.tails) - 1

    def solve(self) -> dict[int, int]:
        n_t, n_r = len(self.targets), len(self.reviewers)
        source, sink = 0, 1
        target_node = 2
        reviewer_node = target_node + n_t
        next_node = reviewer_node + n_r
        gates: dict[tuple[int, int], int] = {}
        max_score = 0
        for i, target in enumerate(self.targets):
            self._arc(source, target_node + i, 1, 0)
            for r in range(n_r):
                if r in target.ineligible:
                    continue
                gate = gates.get((r, target.proposal))
                if gate is None:
                    gate = gates[(r, target.proposal)] = next_node
                    next_node += 1
                    self._arc(gate, reviewer_node + r, 1, 0)
                score = round(self.scores.get((i, r), 0.0) * SCORE_SCALE)
                max_score = max(max_score, abs(score))
                self.pair_arcs[self._arc(target_node + i, gate, 1, -score)] = (i, r)
        eligible_count = [0] * n_r
        for r, _proposal in gates:
            eligible_count[r] += 1
        max_load_cost = self._slot_arcs(reviewer_node, sink, eligible_count)
        # Dearer than any change of total cost that one more assignment can cause, so the
        # number of reviews assigned is maximised first and affinity second.
        overflow = 2 * (n_t + 1) * (max_score + max_load_cost) + 1
        self._arc(source, sink, n_t, overflow)

        flow = min_cost_flow.SimpleMinCostFlow()
        arcs = flow.add_arcs_with_capacity_and_unit_cost(
            np.array(self.tails), np.array(self.heads), np.array(self.caps), np.array(self.costs)
        )
        flow.set_nodes_supplies(np.array([source, sink]), np.array([n_t, -n_t]))
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        flows = flow.flows(arcs)
        return {self.pair_arcs[a][0]: self.pair_arcs[a][1] for a in self.pair_arcs if flows[a] > 0}

    def _slot_arcs(self, reviewer_node: int, sink: int, eligible_count: list[int]) -> int:
        """One arc per usable free slot of each reviewer; returns the dearest slot's cost."""
        dearest = 0
        for r, reviewer in enumerate(self.reviewers):
            free = eligible_count[r]
            if reviewer.max_workload is not None:
                free = min(free, max(0, reviewer.max_workload - reviewer.workload))
            for k in range(free):
                cost = 0
                if self.consider_workload:
                    load = reviewer.workload + k
                    cost = round(LOAD_COST_PER_OPEN_ASSIGNMENT * load * SCORE_SCALE)
                dearest = max(dearest, cost)
                self._arc(reviewer_node + r, sink, 1, cost)
        return dearest
