"""`fair`: raise the worst-off proposal first, then total affinity.

Stages, all keeping every hard constraint and the coverage of `optimal`:

1. Lagrangian threshold search (for "maximise total affinity subject to every proposal scoring
   at least T", searched over T): start from the `optimal` assignment; re-solve the exact
   min-cost flow with each proposal's pairs weighted by (1 + lambda_p), where lambda_p rises by
   a subgradient step while the proposal scores below T and falls while it is above. Every
   re-solve is a valid integral assignment; the best one (highest minimum proposal score, then
   total) among those keeping at least `fair_total_floor` of the optimal total is kept. A
   threshold reached raises T (binary search up to the top-k bound); one missed for PATIENCE
   rounds lowers it. Only proposals near the bottom get weight, so the total stays near optimal.
2. Local repair (one target per proposal; minimum loads kept): swaps and two-step chains that
   lift the worst proposal while every proposal touched ends above its old score
   (fair_repair.py); on large calls, then a large-neighbourhood search (fair_lns.py).
3. On calls of up to `fair_exact_max_pairs` pairs, the exact bisection on the worst score
   (fair_exact.py: one "highest total with every proposal >= T" MILP a step), from the worst
   score reached, each step's answer lifted by the local repair; then a polish of the total.

Deterministic for a given input, except that `fair_time_limit` (wall clock) can cut the
search short on a slow machine (10k x 5k with minimum loads: ~17 s on an idle 2-core machine),
and that the exact bisection's steps are timed (in CPU seconds, so a busy machine changes
little).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matching.fair_exact import exact_fair
from matching.fair_lns import Neighbourhood, improve
from matching.fair_repair import polish, repair
from matching.network import FlowNetwork
from matching.optimal import MIN_LOADS_UNMET, flow_request
from matching.problem import FloatArray, IntArray
from matching.rebalance import rebalance
from matching.residual import Residual, SolverOutput

#: rounds without reaching a threshold before it is lowered
PATIENCE = 4
STEP = 50.0
#: time for raising the total of the exact answer at its worst score (local moves)
POLISH_SECONDS = 2.0
#: time for lifting each answer of the exact bisection (local repair)
LIFT_SECONDS = 1.0


@dataclass(frozen=True)
class _Scored:
    chosen: NDArray[np.bool_]
    scores: FloatArray  # per proposal
    total: float

    @property
    def minimum(self) -> float:
        return float(self.scores.min()) if len(self.scores) else 0.0


class _FairSearch:
    """The state of the threshold search over one residual problem."""

    def __init__(self, residual: Residual) -> None:
        self.residual = residual
        self.network = FlowNetwork(flow_request(residual))
        pairs = residual.pairs
        proposals, inverse = np.unique(residual.proposal, return_inverse=True)
        self.proposal_of_target: IntArray = inverse.astype(np.int64)
        self.proposal_of_pair = self.proposal_of_target[pairs.target]
        self.n_proposals = len(proposals)
        self.wanted = np.bincount(inverse, weights=residual.demand, minlength=len(proposals)) > 0
        fixed = residual.fixed
        self.offset: FloatArray = np.bincount(
            self.proposal_of_target[fixed.target], weights=fixed.score, minlength=len(proposals)
        ).astype(np.float64)
        self.min_loads_met = True
        self.ceiling = self._upper_bound()

    def run(self, value: FloatArray | None = None) -> _Scored:
        outcome = self.network.solve(value)
        self.min_loads_met &= outcome.min_loads_met
        return self.scored(outcome.chosen)

    def scored(self, mask: NDArray[np.bool_]) -> _Scored:
        pairs = self.residual.pairs
        sums: FloatArray = self.offset + np.bincount(
            self.proposal_of_pair[mask], weights=pairs.score[mask], minlength=self.n_proposals
        )
        return _Scored(mask, sums[self.wanted], float(pairs.score[mask].sum()))

    def _upper_bound(self) -> float:
        """Min over proposals of its best conceivable score, capacities ignored."""
        pairs, demand = self.residual.pairs, self.residual.demand
        order = np.lexsort((-pairs.score, pairs.target))
        t, s = pairs.target[order], pairs.score[order]
        starts = np.searchsorted(t, t)
        top = (np.arange(len(t)) - starts) < demand[t]
        best = self.offset + np.bincount(
            self.proposal_of_target[t[top]], weights=s[top], minlength=self.n_proposals
        )
        return float(best[self.wanted].min()) if self.wanted.any() else 0.0


def _better(a: _Scored, b: _Scored) -> bool:
    if a.minimum > b.minimum + 1e-12:
        return True
    return abs(a.minimum - b.minimum) <= 1e-12 and a.total > b.total


def solve_fair(residual: Residual) -> SolverOutput:
    """Every hard constraint of `optimal` (minimum loads included), the same coverage, and a
    raised worst-off proposal; then the highest total found at that worst score.

    Never worse than `optimal` on the minimum proposal score; keeps at least
    `options.fair_total_floor` of the optimal total.
    """
    options = residual.options
    deadline = time.perf_counter() + options.fair_time_limit
    search = _FairSearch(residual)
    base = search.run()
    floor = options.fair_total_floor * base.total if base.total > 0 else base.total
    # Local repair of the optimal assignment is cheap and often reaches the top-k bound, which
    # proves the minimum optimal; only otherwise are the (costlier) weighted re-solves run.
    best = search.scored(_repaired(search, base.chosen, floor, deadline))
    if best.minimum < search.ceiling - 1e-9:
        best = _lagrangian(search, best, floor, deadline, options.fair_rounds)
        best = search.scored(_repaired(search, best.chosen, floor, deadline))
    exact_applies = len(residual.pairs) <= options.fair_exact_max_pairs
    if best.minimum < search.ceiling - 1e-9 and not exact_applies:
        # on small calls the exact bisection below does better in the time this would take
        best = search.scored(_neighbourhoods(search, best, floor, deadline))
    best = search.scored(_polished(search, best, deadline))
    exact = _exact(search, base, best, floor)
    if exact is not None:
        candidate = search.scored(exact)
        if not _better(best, candidate) and candidate.total >= floor - 1e-9:
            # the bisection's steps stop at the first assignment that reaches the floor
            polish_until = time.perf_counter() + POLISH_SECONDS
            best = search.scored(_polished(search, candidate, polish_until))
    chosen = rebalance(residual, best.chosen)
    warnings = () if search.min_loads_met else (MIN_LOADS_UNMET,)
    return SolverOutput(chosen, warnings)


@dataclass
class _Threshold:
    """Binary search over the floor T: raised when reached, lowered after PATIENCE misses."""

    lo: float
    hi: float
    ceiling: float
    misses: int = 0

    @property
    def target(self) -> float:
        return (self.lo + self.hi) / 2

    def settled(self) -> bool:
        return self.ceiling - self.lo <= 1e-9 or self.hi - self.lo <= 1e-9 * max(1.0, abs(self.hi))

    def record(self, reached: bool, minimum: float) -> None:
        if reached:
            self.lo, self.misses = max(self.lo, minimum), 0
            self.hi = self.hi if self.hi > self.lo else self.ceiling
        else:
            self.misses += 1
            if self.misses >= PATIENCE:
                self.hi, self.misses = self.target, 0


def _lagrangian(
    search: _FairSearch, base: _Scored, floor: float, deadline: float, rounds: int
) -> _Scored:
    """The best assignment over weighted re-solves (subgradient steps on the weights)."""
    best, threshold = base, _Threshold(base.minimum, search.ceiling, search.ceiling)
    lam = np.zeros(search.n_proposals)
    score = search.residual.pairs.score
    for round_no in range(rounds):
        if threshold.settled() or time.perf_counter() > deadline:
            break
        current = search.run(score * (1.0 + lam)[search.proposal_of_pair])
        if current.total >= floor and _better(current, best):
            best = current
        gap = np.zeros(search.n_proposals)
        gap[search.wanted] = (threshold.target - current.scores) / max(abs(threshold.target), 1e-9)
        lam = np.maximum(0.0, lam + STEP / (1 + round_no / 4) * gap)
        reached = current.minimum >= threshold.target and current.total >= floor
        threshold.record(reached, current.minimum)
    return best


def _exact(
    search: _FairSearch, base: _Scored, found: _Scored, floor: float
) -> NDArray[np.bool_] | None:
    """The exact MILP answer on small calls (None above the size limit or past its time)."""
    residual, options = search.residual, search.residual.options
    if len(residual.pairs) > options.fair_exact_max_pairs:
        return None
    count = int(base.chosen.sum())
    exact = exact_fair(
        residual,
        search.offset,
        search.wanted,
        count,
        floor,
        options.fair_exact_time_limit,
        min_load=search.network.req.min_load,
        at_least=found.minimum,
        upper=search.ceiling,
        lift=lambda chosen: _repaired(search, chosen, floor, time.perf_counter() + LIFT_SECONDS),
    )
    return None if exact is None else exact.chosen


def _local_args(search: _FairSearch) -> dict[str, Any] | None:
    """The arguments of the local moves, or None where they do not apply (several targets
    per proposal: a proposal's score is then spread over targets)."""
    residual = search.residual
    if search.n_proposals != len(residual.demand):
        return None
    order = search.proposal_of_target
    return {
        "capacity": residual.capacity,
        "offset": search.offset[order],
        "wanted": search.wanted[order],
        "min_load": search.network.req.min_load,
    }


def _repaired(
    search: _FairSearch, chosen: NDArray[np.bool_], floor: float, deadline: float
) -> NDArray[np.bool_]:
    """Local repair of the worst proposal (fair_repair.repair)."""
    args = _local_args(search)
    if args is None:
        return chosen
    pairs = search.residual.pairs
    return repair(pairs, chosen, total_floor=floor, deadline=deadline, **args)


def _neighbourhoods(
    search: _FairSearch, best: _Scored, floor: float, deadline: float
) -> NDArray[np.bool_]:
    """Small exact re-solves around the worst proposals (fair_lns.improve)."""
    args = _local_args(search)
    if args is None:
        return best.chosen
    pairs = search.residual.pairs
    hood = Neighbourhood(pairs=pairs, total_floor=floor, **args)
    return improve(hood, best.chosen, deadline, search.residual.options.fair_lns_rounds)


def _polished(search: _FairSearch, best: _Scored, deadline: float) -> NDArray[np.bool_]:
    """More total at the same worst score (fair_repair.polish)."""
    args = _local_args(search)
    if args is None:
        return best.chosen
    pairs = search.residual.pairs
    return polish(pairs, best.chosen, keep=best.minimum, deadline=deadline, **args)
