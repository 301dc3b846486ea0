"""Exact integer max-min by scipy's HiGHS MILP, for small complete problems in tests."""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from matching.problem import FloatArray, MatchingProblem


class _Rows:
    def __init__(self) -> None:
        self.rows: list[FloatArray] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, row: FloatArray, lower: float, upper: float) -> None:
        self.rows.append(row)
        self.lower.append(lower)
        self.upper.append(upper)


def integer_max_min(problem: MatchingProblem, total_at_least: float) -> float:
    """Best minimum proposal score of any full assignment with total >= `total_at_least`
    (minimum loads included)."""
    n_t, n_r = len(problem.targets), len(problem.reviewers)
    c = problem.candidates
    scores = np.zeros((n_t, n_r))
    scores[c.target, c.reviewer] = c.score
    n = n_t * n_r
    rows = _Rows()
    for t in range(n_t):
        cover = np.zeros(n + 1)
        cover[t * n_r : (t + 1) * n_r] = 1
        rows.add(cover, problem.targets.demand[t], problem.targets.demand[t])
        floor = np.zeros(n + 1)
        floor[t * n_r : (t + 1) * n_r], floor[n] = -scores[t], 1
        rows.add(floor, -np.inf, 0)
    mins = problem.reviewers.min_load
    for r in range(n_r):
        load = np.zeros(n + 1)
        load[r:n:n_r] = 1
        rows.add(load, 0 if mins is None else mins[r], problem.reviewers.capacity[r])
    rows.add(np.append(scores.ravel(), 0), total_at_least, np.inf)
    cost = np.zeros(n + 1)
    cost[n] = -1
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows.rows), rows.lower, rows.upper),
        integrality=np.append(np.ones(n), 0),
        bounds=Bounds(np.append(np.zeros(n), -1e6), np.append(np.ones(n), 1e6)),
    )
    return -float(result.fun)
