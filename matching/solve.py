"""One entry point for every algorithm, with optional fixed assignments (incremental re-solve)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from matching.eligibility import dedupe_sorted, proposal_demand, shortfall_reason
from matching.errors import ImpossibleConstraintError
from matching.fair import solve_fair
from matching.feasibility import diagnose
from matching.greedy import solve_greedy
from matching.metrics import compute_metrics
from matching.optimal import MIN_LOADS_UNMET, solve_optimal
from matching.problem import MatchingProblem, Pairs
from matching.reasons import Algorithm
from matching.residual import Residual, SolveOptions, SolverOutput, residual_of
from matching.result import MatchingResult, Shortfall

SOLVERS: dict[Algorithm, Callable[[Residual], SolverOutput]] = {
    Algorithm.GREEDY: solve_greedy,
    Algorithm.OPTIMAL: solve_optimal,
    Algorithm.FAIR: solve_fair,
}


def solve(
    problem: MatchingProblem,
    algorithm: Algorithm | str = Algorithm.OPTIMAL,
    *,
    fixed: Pairs | None = None,
    options: SolveOptions | None = None,
    strict: bool = False,
) -> MatchingResult:
    """Assign reviewers to targets with `algorithm`; every hard constraint holds.

    Guarantees: no excluded pair, no reviewer twice on one proposal, no reviewer above capacity,
    no target above its demand; the same input gives the same output. `fixed` assignments are
    kept as they are and count against demand and capacity; only the gaps are filled. Every
    target left short is named with a reason, and the pre-solve diagnosis is in `warnings`.
    `strict`: a constraint no assignment can meet (a minimum load) raises
    ImpossibleConstraintError before any solver runs, and so do minimum loads the solver
    could not meet together with full coverage, instead of a warning.
    """
    started = time.perf_counter()
    algorithm = Algorithm(algorithm)
    fixed = Pairs.empty() if fixed is None else fixed
    residual = residual_of(problem, fixed, options or SolveOptions())
    diagnosis = diagnose(residual)
    impossible = diagnosis.impossible(problem.reviewers.ids) if strict else ()
    if impossible:
        raise ImpossibleConstraintError(impossible)
    output = SOLVERS[algorithm](residual)
    if strict and MIN_LOADS_UNMET in output.warnings:
        raise ImpossibleConstraintError((MIN_LOADS_UNMET.split(";")[0],))
    new = residual.pairs
    mask = output.chosen
    chosen = Pairs(new.target[mask], new.reviewer[mask], new.score[mask])
    everything = dedupe_sorted(_concat(fixed, chosen), len(problem.reviewers))
    seconds = time.perf_counter() - started
    return MatchingResult(
        problem=problem,
        algorithm=algorithm.value,
        pairs=everything,
        shortfalls=_shortfalls(residual, chosen),
        metrics=compute_metrics(problem, everything, seconds),
        fixed_count=len(fixed),
        warnings=diagnosis.messages() + output.warnings,
    )


def _concat(a: Pairs, b: Pairs) -> Pairs:
    return Pairs.of(
        np.concatenate([a.target, b.target]),
        np.concatenate([a.reviewer, b.reviewer]),
        np.concatenate([a.score, b.score]),
    )


def _shortfalls(residual: Residual, chosen: Pairs) -> tuple[Shortfall, ...]:
    got = np.bincount(chosen.target, minlength=len(residual.demand))
    missing = residual.demand - got
    totals = proposal_demand(residual.problem, residual.demand)
    return tuple(
        Shortfall(
            target=int(t),
            missing=int(missing[t]),
            reason=shortfall_reason(residual.eligibility, residual.demand, totals, int(t)),
        )
        for t in np.flatnonzero(missing > 0)
    )
