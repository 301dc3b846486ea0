"""A binary MILP over many columns (one per candidate pair), solved on a priced subset.

Maximise score . x subject to row bounds lower <= A x <= upper, x binary, where most columns are
never worth using (10k x 5k: 1M pairs, each proposal wanting 3). HiGHS on all of them at once
takes far too long; instead:

1. Column generation on the LP: solve the LP on a subset S of columns, price every column with
   the LP's duals, add those with a positive reduced profit, until none is left: the LP optimum
   over S is then the LP optimum over all columns, an upper bound U on the MILP.
2. The MILP on S gives an assignment of value P. A column outside S whose reduced profit is
   below -(U - P) cannot be in any assignment better than P (its value is at most U plus its
   reduced profit), so the columns at or above that line are added and the MILP solved again;
   once none is missing, the MILP on S is the MILP on all columns, and its proved gap (HiGHS)
   is the proved gap of the whole problem; otherwise the gap is the one against U (also
   proved, looser).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog
from scipy.sparse import csc_matrix, csr_matrix, vstack

from matching.fair_exact import run_milp
from matching.problem import FloatArray, IntArray

#: a reduced profit above this counts as positive (LP noise)
PRICE_TOLERANCE = 1e-9
#: the most columns added to the LP per round and per row group (those priced highest)
ROUND_COLUMNS = 200_000
#: the most pricing rounds (the bound then counts what is still positive outside)
ROUNDS = 8
#: pricing stops when the positive reduced profits outside add up to this share of the bound
BOUND_TOLERANCE = 1e-5
#: a gap against the LP bound this small ends the search (no more columns added)
GAP_TOLERANCE = 1e-5
#: a subset with no integral answer takes in every column priced within this many best scores
WIDEN = 1.0
#: the most MILP solves (each after adding the columns that could still do better)
FIXING_ROUNDS = 3


@dataclass(frozen=True)
class PricedOutcome:
    """The chosen mask over all columns (None: no solution), its proved relative gap (0.0:
    optimal over every column; inf: unproved), and the number of columns the MILP saw."""

    chosen: NDArray[np.bool_] | None
    gap: float
    columns: int


class PricedMilp:
    """`rows` (sparse, one column per pair) with `lower` / `upper` bounds; `score` to
    maximise."""

    def __init__(self, rows: csr_matrix, lower: FloatArray, upper: FloatArray, score: FloatArray):
        self.a = csc_matrix(rows)
        self.lower, self.upper, self.score = lower, upper, score
        self.equal = np.isfinite(lower) & np.isfinite(upper) & (lower == upper)
        self.has_upper = np.isfinite(upper) & ~self.equal
        self.has_lower = np.isfinite(lower) & ~self.equal

    def solve(self, start: NDArray[np.bool_], time_limit: float) -> PricedOutcome:
        """`start`: the first subset (e.g. each row group's best columns); within
        `time_limit` seconds (wall)."""
        deadline = time.perf_counter() + time_limit
        columns = start.copy()
        bound, profit = self._priced_lp(columns)
        if profit is None:
            return PricedOutcome(None, float("inf"), int(columns.sum()))
        chosen, gap = None, float("inf")
        for _ in range(FIXING_ROUNDS):
            found, milp_gap, value = self._milp(columns, deadline - time.perf_counter())
            if found is None:  # the subset admits the LP but no integral answer: widen it
                if columns.all() or time.perf_counter() >= deadline:
                    break
                columns |= profit >= -WIDEN * max(1.0, float(np.abs(self.score).max()))
                continue
            chosen = found
            missing = ~columns & (profit >= -(bound - value) - PRICE_TOLERANCE)
            if not missing.any():
                gap = milp_gap
                break
            # proved against the LP bound (looser); the missing columns may do better
            gap = max(bound - value, 0.0) / max(abs(value), 1e-12)
            if gap <= GAP_TOLERANCE or time.perf_counter() >= deadline:
                break
            columns |= missing
        return PricedOutcome(chosen, gap, int(columns.sum()))

    def _lp(self, columns: NDArray[np.bool_]) -> Any:
        a = self.a[:, np.flatnonzero(columns)]
        a_ub = vstack([a[self.has_upper], -a[self.has_lower]]).tocsr()
        b_ub = np.concatenate([self.upper[self.has_upper], -self.lower[self.has_lower]])
        return linprog(
            -self.score[columns],
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a[self.equal].tocsr(),
            b_eq=self.lower[self.equal],
            bounds=(0, 1),
            method="highs",
        )

    def _priced_lp(self, columns: NDArray[np.bool_]) -> tuple[float, FloatArray | None]:
        """Column generation (adds to `columns`): an upper bound over all columns and every
        column's reduced profit (None: infeasible even with every column). For any duals, the
        LP optimum over the subset plus the positive reduced profits outside it bounds the
        whole LP from above; pricing stops once those add up to almost nothing."""
        for _ in range(ROUNDS):
            result = self._lp(columns)
            if result.status != 0:
                if columns.all():
                    return float("inf"), None
                columns |= True  # infeasible on the subset (rare): no duals to price with
                continue
            profit = self._profit(result)
            outside = np.where(columns, 0.0, np.maximum(profit, 0.0))
            bound = -float(result.fun) + float(outside.sum())
            if outside.sum() <= BOUND_TOLERANCE * max(1.0, abs(bound)):
                return bound, profit
            entering = np.flatnonzero(outside > 0)
            if len(entering) > ROUND_COLUMNS:
                entering = entering[np.argsort(-profit[entering])[:ROUND_COLUMNS]]
            columns[entering] = True
        return bound, profit

    def _profit(self, result: Any) -> FloatArray:
        """Every column's reduced profit under the LP's duals (linprog minimises -score: the
        reduced cost is -score - A^T y, the profit its negative)."""
        duals = np.zeros(self.a.shape[0])
        duals[self.equal] = result.eqlin.marginals
        n_upper = int(self.has_upper.sum())
        duals[self.has_upper] += result.ineqlin.marginals[:n_upper]
        duals[self.has_lower] -= result.ineqlin.marginals[n_upper:]
        return np.asarray(self.score + self.a.T @ duals, dtype=np.float64)

    def _milp(
        self, columns: NDArray[np.bool_], time_limit: float
    ) -> tuple[NDArray[np.bool_] | None, float, float]:
        idx = np.flatnonzero(columns)
        result = run_milp(
            -self.score[idx],
            constraints=[LinearConstraint(self.a[:, idx].tocsr(), self.lower, self.upper)],
            integrality=np.ones(len(idx)),
            bounds=Bounds(0.0, 1.0),
            options={"time_limit": max(time_limit, 1.0)},
        )
        if result.x is None:
            return None, float("inf"), -np.inf
        chosen = np.zeros(len(columns), dtype=bool)
        chosen[idx[np.round(result.x) > 0.5]] = True
        gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
        return chosen, gap, float(self.score[chosen].sum())


def best_per_group(group: IntArray, score: FloatArray, k: IntArray | int) -> NDArray[np.bool_]:
    """The mask of each group's `k` highest-scoring columns (`k` per column's group, or one)."""
    order = np.lexsort((-score, group))
    g = group[order]
    rank = np.arange(len(g)) - np.searchsorted(g, g)
    keep = np.zeros(len(group), dtype=bool)
    limit = k[g] if isinstance(k, np.ndarray) else k
    keep[order[rank < limit]] = True
    return keep
