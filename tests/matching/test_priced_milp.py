"""The priced MILP (column generation, then the MILP on the pairs that could matter) against
HiGHS's MILP over every pair."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix, vstack

from matching.priced_milp import PricedMilp, best_per_group


def assignment_rows(
    n_t: int, n_r: int, density: float, seed: int
) -> tuple[csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Targets wanting 2 reviewers each, reviewers of capacity 3, and "at least
    one senior" per target: rows, bounds, scores, each column's target and whether its
    reviewer is senior."""
    rng = np.random.default_rng(seed)
    t, r = np.nonzero(rng.random((n_t, n_r)) < density)
    n = len(t)
    score = np.round(rng.random(n), 3)
    senior = rng.random(n_r) < 0.3
    cols = np.flatnonzero(senior[r])
    rows = vstack(
        [
            coo_matrix((np.ones(n), (t, np.arange(n))), shape=(n_t, n)),
            coo_matrix((np.ones(n), (r, np.arange(n))), shape=(n_r, n)),
            coo_matrix((np.ones(len(cols)), (t[cols], cols)), shape=(n_t, n)),
        ]
    ).tocsr()
    lower = np.concatenate([np.full(n_t, 2.0), np.zeros(n_r), np.ones(n_t)])
    upper = np.concatenate([np.full(n_t, 2.0), np.full(n_r, 3.0), np.full(n_t, np.inf)])
    return rows, lower, upper, score, t, senior[r]


@pytest.mark.parametrize("seed", range(4))
def test_the_priced_milp_finds_the_optimum_over_every_pair_from_a_small_start(seed: int) -> None:
    rows, lower, upper, score, target, senior = assignment_rows(40, 60, 0.5, seed)
    full = milp(
        -score,
        constraints=LinearConstraint(rows, lower, upper),
        integrality=np.ones(len(score)),
        bounds=Bounds(0, 1),
    )
    assert full.x is not None
    start = best_per_group(target, score, 3)
    seniors = np.flatnonzero(senior)
    start[seniors[best_per_group(target[seniors], score[seniors], 2)]] = True
    assert start.sum() < len(score) / 3  # most pairs start outside
    out = PricedMilp(rows, lower, upper, score).solve(start, time_limit=60)
    assert out.chosen is not None
    assert float(score[out.chosen].sum()) == pytest.approx(-full.fun, abs=1e-6)
    assert out.gap <= 1e-5
    x = out.chosen.astype(float)
    assert np.all(rows @ x >= lower - 1e-9) and np.all(rows @ x <= upper + 1e-9)


def test_the_priced_milp_says_infeasible_when_no_pair_set_can_do() -> None:
    rows, lower, upper, score, target, _ = assignment_rows(10, 4, 1.0, 0)
    upper[10:14] = 1.0  # 4 reviewers of capacity 1 cannot give 10 targets 2 each
    out = PricedMilp(rows, lower, upper, score).solve(best_per_group(target, score, 3), 30)
    assert out.chosen is None
