"""Large-neighbourhood search for `fair`: re-solve a few proposals exactly, the rest fixed.

Where local moves stall (tight minimum loads leave no reviewer free to move alone), each round
frees the reviewers of the K worst proposals and of R others drawn at random (seeded), and
solves that small max-min MILP (scipy's HiGHS) with every other assignment fixed: the freed
reviewers keep their capacity and minimum loads net of what they hold outside, and the total
may fall only by what the floor allows. A round is kept if it raises the worst score among the
freed proposals (or keeps it and raises the total), so the minimum never falls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint
from scipy.sparse import coo_matrix, csr_matrix, hstack

from matching.fair_exact import run_milp
from matching.problem import FloatArray, IntArray, Pairs

WORST, OTHERS = 6, 24
ROUND_SECONDS = 2.0
#: weight of the total beside the worst score in a round's objective
TOTAL_WEIGHT = 1e-4


@dataclass(frozen=True)
class Neighbourhood:
    """The fixed data of the search: pairs, limits, per-target offsets and which count."""

    pairs: Pairs
    capacity: IntArray
    min_load: IntArray | None
    offset: FloatArray
    wanted: NDArray[np.bool_]
    total_floor: float


def _scores(hood: Neighbourhood, chosen: NDArray[np.bool_]) -> FloatArray:
    p = hood.pairs
    n_t = len(hood.offset)
    sums = np.bincount(p.target[chosen], weights=p.score[chosen], minlength=n_t)
    return np.asarray(hood.offset + sums, dtype=np.float64)


def _with_t(rows: coo_matrix, coefficient: float) -> csr_matrix:
    column = csr_matrix(np.full((rows.shape[0], 1), coefficient))
    return csr_matrix(hstack([rows, column]))


def _round(
    hood: Neighbourhood, chosen: NDArray[np.bool_], freed: NDArray[np.bool_], limit: float
) -> NDArray[np.bool_] | None:
    """Re-solve the targets in `freed` (a mask over targets); None if no solution in time."""
    p = hood.pairs
    inside = freed[p.target]
    n_r = len(hood.capacity)
    outside_load = np.bincount(p.reviewer[chosen & ~inside], minlength=n_r)
    room = hood.capacity - outside_load
    mins = np.zeros(n_r, np.int64) if hood.min_load is None else hood.min_load
    need = np.maximum(mins - outside_load, 0)
    usable = room > 0
    if int(need.sum()) >= int(chosen[inside].sum()):
        # minimum loads take every freed slot: only reviewers still short can be used (a
        # much smaller MILP where loads are tight, e.g. minimum = demand / reviewers)
        usable &= need > 0
    idx = np.flatnonzero(inside & usable[p.reviewer])
    if not len(idx):
        return None
    t, r, s = p.target[idx], p.reviewer[idx], p.score[idx]
    m = len(idx)
    t_ids, t_row = np.unique(t, return_inverse=True)
    r_ids, r_row = np.unique(r, return_inverse=True)
    cols = np.arange(m)
    demand = np.bincount(p.target[chosen & inside], minlength=len(hood.offset))[t_ids]
    held = float(p.score[chosen & inside].sum())
    slack = float(p.score[chosen].sum()) - hood.total_floor
    wanted = hood.wanted[t_ids]
    score_rows = coo_matrix((-s, (t_row, cols)), shape=(len(t_ids), m))
    cap_floor = hood.offset[t_ids] + np.where(wanted, 0.0, np.inf)
    constraints = [
        LinearConstraint(
            _with_t(coo_matrix((np.ones(m), (t_row, cols)), shape=(len(t_ids), m)), 0.0),
            demand,
            demand,
        ),
        LinearConstraint(_with_t(score_rows, 1.0), -np.inf, cap_floor),
        LinearConstraint(
            _with_t(coo_matrix((np.ones(m), (r_row, cols)), shape=(len(r_ids), m)), 0.0),
            need[r_ids],
            room[r_ids],
        ),
        LinearConstraint(np.append(s, 0.0)[None, :], held - max(slack, 0.0), np.inf),
    ]
    cost = np.append(-TOTAL_WEIGHT * s, -1.0)
    bounds = Bounds(np.append(np.zeros(m), -np.inf), np.append(np.ones(m), np.inf))
    result = run_milp(
        cost,
        constraints=constraints,
        integrality=np.append(np.ones(m), 0),
        bounds=bounds,
        options={"time_limit": limit},
    )
    if result.x is None:
        return None
    new = chosen & ~inside
    new[idx[np.round(result.x[:m]) > 0.5]] = True
    return new


def improve(
    hood: Neighbourhood,
    chosen: NDArray[np.bool_],
    deadline: float,
    rounds: int = 1_000,
    seed: int = 0,
) -> NDArray[np.bool_]:
    """Up to `rounds` rounds until `deadline`; the best assignment found (never a lower
    minimum)."""
    rng = np.random.default_rng(seed)
    wanted = np.flatnonzero(hood.wanted)
    if len(wanted) == 0:
        return chosen
    for _ in range(rounds):
        if time.perf_counter() + 0.1 >= deadline:
            break
        scores = _scores(hood, chosen)
        order = wanted[np.argsort(scores[wanted], kind="stable")]
        worst, rest = order[:WORST], order[WORST:]
        picked = rng.choice(rest, min(OTHERS, len(rest)), replace=False) if len(rest) else rest
        freed = np.zeros(len(hood.offset), dtype=bool)
        freed[worst] = freed[picked] = True
        limit = min(ROUND_SECONDS, deadline - time.perf_counter())
        new = _round(hood, chosen, freed, limit)
        if new is None:
            continue
        before, after = scores[freed & hood.wanted].min(), _scores(hood, new)
        lifted = after[freed & hood.wanted].min()
        total_up = float(hood.pairs.score[new].sum()) > float(hood.pairs.score[chosen].sum())
        if lifted > before + 1e-9 or (lifted >= before - 1e-12 and total_up):
            chosen = new
        if len(rest) <= OTHERS:  # the neighbourhood was the whole call: nothing more to try
            break
    return chosen
