"""Reference optima from scipy's HiGHS LP: the max-sum optimum and the max-min bound.

Independent of the flow code (eligibility is recomputed with plain sets). The assignment
constraint matrix is totally unimodular, so the max-sum LP optimum equals the integer optimum.
These are slow at scale (HiGHS needs ~20 s for 1M pairs): for tests and the benchmark only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

from matching.problem import FloatArray, IntArray, MatchingProblem


@dataclass(frozen=True)
class _LpPairs:
    target: IntArray
    reviewer: IntArray
    score: FloatArray


def _eligible(problem: MatchingProblem) -> _LpPairs:
    x = problem.exclusions
    forbidden = set(zip(x.target.tolist(), x.reviewer.tolist(), strict=True))
    best: dict[tuple[int, int], float] = {}
    c = problem.candidates
    for t, r, s in zip(c.target.tolist(), c.reviewer.tolist(), c.score.tolist(), strict=True):
        if (t, r) not in forbidden:
            best[(t, r)] = max(s, best.get((t, r), s))
    keys = sorted(best)
    return _LpPairs(
        np.array([k[0] for k in keys], dtype=np.int64),
        np.array([k[1] for k in keys], dtype=np.int64),
        np.array([best[k] for k in keys], dtype=np.float64),
    )


def _rows(index: IntArray, n_cols: int) -> csr_matrix:
    _, row = np.unique(index, return_inverse=True)
    data = np.ones(n_cols)
    return coo_matrix((data, (row, np.arange(n_cols))), shape=(int(row.max()) + 1, n_cols)).tocsr()


def _constraints(problem: MatchingProblem, p: _LpPairs) -> tuple[csr_matrix, FloatArray]:
    """Rows: per-target demand, per-reviewer capacity, per (proposal, reviewer) at most 1."""
    n = len(p.target)
    t_rows, r_rows = _rows(p.target, n), _rows(p.reviewer, n)
    gate = problem.targets.proposal[p.target] * (len(problem.reviewers) + 1) + p.reviewer
    g_rows = _rows(gate, n)
    bounds = np.concatenate(
        [
            problem.targets.demand[np.unique(p.target)],
            problem.reviewers.capacity[np.unique(p.reviewer)],
            np.ones(g_rows.shape[0]),
        ]
    )
    return vstack([t_rows, r_rows, g_rows]).tocsr(), bounds.astype(np.float64)


def lp_max_total(problem: MatchingProblem) -> float:
    """Highest total affinity among assignments of maximum cardinality (two LPs)."""
    p = _eligible(problem)
    if len(p.target) == 0:
        return 0.0
    a, b = _constraints(problem, p)
    n = len(p.target)
    most = linprog(-np.ones(n), A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    cardinality = -float(most.fun)
    a2 = vstack([a, csr_matrix(-np.ones((1, n)))]).tocsr()
    # The cardinality LP is integral (totally unimodular): round away solver noise.
    b2 = np.concatenate([b, [-float(round(cardinality))]])
    best = linprog(-p.score, A_ub=a2, b_ub=b2, bounds=(0, 1), method="highs")
    return -float(best.fun)


def lp_max_min_bound(problem: MatchingProblem) -> float | None:
    """Upper bound on the best achievable minimum per-proposal score with full coverage.

    None when full coverage is infeasible even fractionally.
    """
    p = _eligible(problem)
    n = len(p.target)
    present = np.unique(p.target)
    absent = np.setdiff1d(np.arange(len(problem.targets)), present)
    if n == 0 or (problem.targets.demand[absent] > 0).any():
        return None
    a, b = _constraints(problem, p)
    n_t = len(present)
    # Variables: x (n) then t. Target rows are equalities; per proposal: t - score.x <= 0.
    props, prow = np.unique(problem.targets.proposal[p.target], return_inverse=True)
    score_rows = coo_matrix((-p.score, (prow, np.arange(n))), shape=(len(props), n))
    a_ub = vstack([_with_t(a[n_t:], 0.0), _with_t(score_rows, 1.0)]).tocsr()
    b_ub = np.concatenate([b[n_t:], np.zeros(len(props))])
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    bounds = [(0.0, 1.0)] * n + [(None, None)]
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=_with_t(a[:n_t], 0.0),
        b_eq=b[:n_t],
        bounds=bounds,
        method="highs",
    )
    return -float(res.fun) if res.status == 0 else None


def _with_t(rows: csr_matrix | coo_matrix, coefficient: float) -> csr_matrix:
    """`rows` with one more column (the variable t) holding `coefficient`."""
    column = csr_matrix(np.full((rows.shape[0], 1), coefficient))
    return hstack([rows, column]).tocsr()
