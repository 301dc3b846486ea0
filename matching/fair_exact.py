"""Exact `fair` for small calls: two MILPs solved by scipy's HiGHS.

1. maximise t subject to every proposal scoring >= t, the same number of assignments as
   `optimal`, total affinity >= the floor, and every hard constraint;
2. with t fixed at that optimum, maximise total affinity.
Used only below `SolveOptions.fair_exact_max_pairs` candidate pairs and within a time limit:
a MILP stopped by the limit gives its best solution so far, which the caller keeps only if it
beats the heuristic's.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

from matching.problem import FloatArray, IntArray
from matching.residual import Residual

TOLERANCE = 1e-7
_LIBC = ctypes.CDLL(None)


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """HiGHS's MIP code can print debug lines on the C-level stdout; keep stdout for data
    (e.g. `reviewq match` prints its JSON there) by pointing fd 1 at stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()  # HiGHS may print through Python or C stdio: flush both buffers
        _LIBC.fflush(None)  # while fd 1 still points at stderr
        os.dup2(saved, 1)
        os.close(saved)


def run_milp(cost: FloatArray, **kwargs: Any) -> Any:
    """scipy's milp with HiGHS's C-level printing kept off stdout."""
    with _stdout_to_stderr():
        return milp(cost, **kwargs)


def _group_rows(group: IntArray, n: int) -> tuple[csr_matrix, IntArray]:
    """One row per distinct value of `group` summing its pairs; returns the rows and values."""
    values, row = np.unique(group, return_inverse=True)
    matrix = coo_matrix((np.ones(n), (row, np.arange(n))), shape=(len(values), n))
    return matrix.tocsr(), values.astype(np.int64)


def _with_t(rows: csr_matrix, coefficient: float) -> csr_matrix:
    column = csr_matrix(np.full((rows.shape[0], 1), coefficient))
    return csr_matrix(hstack([rows, column]))


def _constraints(
    residual: Residual,
    offset: FloatArray,
    wanted: NDArray[np.bool_],
    count: int,
    floor: float,
    min_load: IntArray | None,
) -> list[LinearConstraint]:
    pairs, n = residual.pairs, len(residual.pairs)
    targets, t_ids = _group_rows(pairs.target, n)
    reviewers, r_ids = _group_rows(pairs.reviewer, n)
    gate = residual.proposal[pairs.target] * np.int64(len(residual.capacity) + 1) + pairs.reviewer
    gates, _ = _group_rows(gate, n)
    _, proposal = np.unique(residual.proposal, return_inverse=True)
    p_of_pair = proposal[pairs.target]
    props = np.flatnonzero(wanted)
    p_row = np.searchsorted(props, p_of_pair)
    in_wanted = wanted[p_of_pair]
    scores = coo_matrix(
        (-pairs.score[in_wanted], (p_row[in_wanted], np.flatnonzero(in_wanted))),
        shape=(len(props), n),
    ).tocsr()
    capacity_rows = vstack([targets, reviewers, gates])
    upper = np.concatenate(
        [residual.demand[t_ids], residual.capacity[r_ids], np.ones(gates.shape[0])]
    )
    lower = np.full(len(upper), -np.inf)
    if min_load is not None:
        lower[len(t_ids) : len(t_ids) + len(r_ids)] = min_load[r_ids]
    totals = csr_matrix(np.vstack([np.ones(n), pairs.score]))
    return [
        LinearConstraint(_with_t(csr_matrix(capacity_rows), 0.0), lower, upper),
        LinearConstraint(_with_t(totals, 0.0), [count, floor - TOLERANCE], [count, np.inf]),
        LinearConstraint(_with_t(scores, 1.0), -np.inf, offset[props]),
    ]


def exact_fair(
    residual: Residual,
    offset: FloatArray,
    wanted: NDArray[np.bool_],
    count: int,
    floor: float,
    time_limit: float,
    *,
    min_load: IntArray | None = None,
    at_least: float = -np.inf,
) -> NDArray[np.bool_] | None:
    """The chosen mask of the exact lexicographic (max-min, then total) assignment, or None.

    `offset` and `wanted` are per proposal (in sorted proposal-id order); `count` is the number
    of assignments to make (that of `optimal`); `min_load` the residual minimum loads;
    `at_least` a worst score already reached (a cut that speeds the search up). None if a
    MILP did not finish in time or is infeasible (e.g. minimum loads that cannot be met).
    """
    n = len(residual.pairs)
    if n == 0 or not wanted.any():
        return None
    constraints = _constraints(residual, offset, wanted, count, floor, min_load)
    integrality = np.append(np.ones(n), 0)
    start = at_least - TOLERANCE if np.isfinite(at_least) else -np.inf
    bounds = Bounds(np.append(np.zeros(n), start), np.append(np.ones(n), np.inf))
    options = {"time_limit": time_limit / 2, "mip_rel_gap": 0.0}
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    first = run_milp(
        cost, constraints=constraints, integrality=integrality, bounds=bounds, options=options
    )
    if first.x is None:  # infeasible, or no solution found in time
        return None
    best_t = float(first.x[-1])
    bounds = Bounds(np.append(np.zeros(n), best_t - TOLERANCE), np.append(np.ones(n), np.inf))
    cost = -np.append(residual.pairs.score, 0.0)
    second = run_milp(
        cost, constraints=constraints, integrality=integrality, bounds=bounds, options=options
    )
    x = second.x if second.x is not None else first.x
    return np.asarray(np.round(x[:n]) > 0.5)
