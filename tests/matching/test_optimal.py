"""`optimal`: exact against HiGHS, valid, deterministic, balanced on ties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from matching.lp import lp_max_total
from matching.problem import MatchingProblem, Pairs, Reviewers, Targets
from matching.residual import SolveOptions
from matching.solve import solve
from matching.validation import find_violations, max_assignable
from tests.matching.problems import complete_problem, problems, random_problem


@settings(max_examples=150, deadline=None)
@given(problems())
def test_optimal_total_equals_the_highs_lp_optimum(problem: MatchingProblem) -> None:
    result = solve(problem, "optimal")
    expected = lp_max_total(problem)
    assert result.metrics.total == pytest.approx(expected, rel=1e-6, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_every_algorithm_breaks_no_hard_constraint(problem: MatchingProblem) -> None:
    for algorithm in ("greedy", "optimal", "fair"):
        assert find_violations(problem, solve(problem, algorithm).pairs) == []


@settings(max_examples=150, deadline=None)
@given(problems())
def test_optimal_meets_demand_wherever_it_is_feasible(problem: MatchingProblem) -> None:
    assert solve(problem, "optimal").metrics.assigned == max_assignable(problem)


def test_optimal_beats_greedy_where_greedy_grabs_the_shared_reviewer() -> None:
    problem = complete_problem([[0.9, 0.8], [0.85, 0.1]], capacity=1)
    greedy, optimal = solve(problem, "greedy"), solve(problem, "optimal")
    assert greedy.metrics.total == pytest.approx(1.0)
    assert optimal.metrics.total == pytest.approx(1.65)


def test_the_same_input_gives_the_same_assignment() -> None:
    problem = random_problem(seed=3)
    first, second = solve(problem, "optimal"), solve(problem, "optimal")
    assert np.array_equal(first.pairs.target, second.pairs.target)
    assert np.array_equal(first.pairs.reviewer, second.pairs.reviewer)


def test_shuffled_candidate_order_gives_the_same_assignment() -> None:
    problem = complete_problem(np.full((9, 6), 0.5), demand=2, capacity=5)
    order = np.random.default_rng(1).permutation(len(problem.candidates))
    c = problem.candidates
    shuffled = MatchingProblem(
        problem.targets,
        problem.reviewers,
        Pairs(c.target[order], c.reviewer[order], c.score[order]),
    )
    a, b = solve(problem, "optimal").pairs, solve(shuffled, "optimal").pairs
    assert np.array_equal(a.reviewer, b.reviewer) and np.array_equal(a.target, b.target)


@pytest.mark.parametrize("algorithm", ["greedy", "optimal", "fair", "fair-heuristic"])
def test_equal_scores_spread_loads_within_one(algorithm: str) -> None:
    problem = complete_problem(np.full((23, 7), 0.4), demand=2, capacity=20)
    options = SolveOptions(fair_exact_max_pairs=0)
    result = solve(problem, algorithm.removesuffix("-heuristic"), options=options)
    loads = np.bincount(result.pairs.reviewer, minlength=7)
    assert loads.max() - loads.min() <= 1
    assert loads.sum() == 46


def test_all_zero_scores_still_fill_demand_and_balance_loads() -> None:
    problem = complete_problem(np.zeros((10, 4)), demand=2, capacity=10)
    result = solve(problem, "optimal")
    loads = np.bincount(result.pairs.reviewer, minlength=4)
    assert result.metrics.assigned == 20 and loads.max() - loads.min() <= 1


def test_minimum_loads_are_met_when_feasible() -> None:
    scores = [[0.9, 0.1, 0.1], [0.9, 0.1, 0.1], [0.9, 0.1, 0.1]]
    problem = complete_problem(scores, demand=1, capacity=3, min_load=1)
    result = solve(problem, "optimal")
    assert sorted(np.bincount(result.pairs.reviewer, minlength=3)) == [1, 1, 1]
    assert result.warnings == ()


def test_impossible_minimum_loads_are_reported_and_dropped() -> None:
    problem = complete_problem([[0.9, 0.1, 0.1]], demand=1, capacity=3, min_load=1)
    result = solve(problem, "optimal")
    assert result.metrics.assigned == 1
    assert any("minimum loads" in w for w in result.warnings)


def test_a_reviewer_never_serves_two_targets_of_one_proposal() -> None:
    base = complete_problem([[0.9, 0.2], [0.9, 0.2]], capacity=2)
    shared = MatchingProblem(
        base.targets.__class__(["rev1", "rev2"], base.targets.demand, np.array([0, 0])),
        base.reviewers,
        base.candidates,
    )
    result = solve(shared, "optimal")
    assert sorted(result.pairs.reviewer.tolist()) == [0, 1]
    assert result.metrics.total == pytest.approx(1.1)


# ../shared beside the repository, as on every developer machine and in CI
MIDL = Path(__file__).resolve().parents[3] / "shared" / "data" / "midl"


def midl(with_lower_loads: bool) -> MatchingProblem:
    scores = np.load(MIDL / "scores.npy")
    r, t = np.nonzero(np.ones_like(scores))
    lower = np.load(MIDL / "loads-lb.npy").astype(np.int64) if with_lower_loads else None
    return MatchingProblem(
        Targets.one_per_proposal(list(range(scores.shape[1])), np.load(MIDL / "covs.npy")),
        Reviewers(
            list(range(scores.shape[0])), np.load(MIDL / "loads.npy").astype(np.int64), lower
        ),
        Pairs.of(t, r, scores[r, t]),
    )


@pytest.mark.skipif(not MIDL.exists(), reason="MIDL data not available")
def test_optimal_reproduces_the_published_midl_max_sum_totals() -> None:
    upper_only = solve(midl(with_lower_loads=False), "optimal")
    assert round(upper_only.metrics.total, 2) == 201.88
    assert round(upper_only.metrics.min_proposal_score, 2) == 0.90
    both = solve(midl(with_lower_loads=True), "optimal")
    assert round(both.metrics.total, 2) == 150.04
    assert both.metrics.load_min == 2 and both.warnings == ()
