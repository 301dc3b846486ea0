"""What is left to solve once fixed assignments are taken out: the solvers' common input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.eligibility import Eligibility, eligible_pairs
from matching.problem import IntArray, MatchingProblem, Pairs, int_array


@dataclass(frozen=True)
class SolveOptions:
    #: convex load cost in affinity units: a reviewer's k-th assignment costs this x (load + k)
    load_weight: float = 0.0
    #: `fair`: the most weighted re-solves it tries
    fair_rounds: int = 40
    #: `fair`: solve exactly (MILP bisection) up to this many candidate pairs, within this many
    #: seconds of the process's CPU time (a busy machine gets the same steps done; the wall
    #: time stays within 4x)
    fair_exact_max_pairs: int = 25_000
    fair_exact_time_limit: float = 25.0
    #: `fair`: the least share of the optimal total it may keep
    fair_total_floor: float = 0.98
    #: `fair`: the most rounds of the neighbourhood search (fair_lns.py)
    fair_lns_rounds: int = 1_000
    #: `fair`: stop refining after this many seconds (the best assignment so far stands)
    fair_time_limit: float = 15.0


@dataclass(frozen=True)
class Residual:
    """Residual demand and capacity, and the eligible pairs, after fixed assignments."""

    problem: MatchingProblem
    eligibility: Eligibility
    demand: IntArray
    capacity: IntArray
    fixed: Pairs
    options: SolveOptions

    @property
    def pairs(self) -> Pairs:
        return self.eligibility.pairs

    @property
    def proposal(self) -> IntArray:
        return self.problem.targets.proposal


def residual_of(problem: MatchingProblem, fixed: Pairs, options: SolveOptions) -> Residual:
    """Take `fixed` out of demand and capacity; its reviewers are barred from its proposals."""
    n_t, n_r = len(problem.targets), len(problem.reviewers)
    held = np.bincount(fixed.target, minlength=n_t)
    load = np.bincount(fixed.reviewer, minlength=n_r)
    return Residual(
        problem=problem,
        eligibility=eligible_pairs(problem, blocked=fixed),
        demand=int_array(np.maximum(problem.targets.demand - held, 0)),
        capacity=int_array(np.maximum(problem.reviewers.capacity - load, 0)),
        fixed=fixed,
        options=options,
    )


@dataclass(frozen=True)
class SolverOutput:
    """A solver's answer: the chosen mask over `Residual.pairs`, and anything worth saying."""

    chosen: NDArray[np.bool_]
    warnings: tuple[str, ...] = ()
