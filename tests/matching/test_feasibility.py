"""Infeasible inputs are diagnosed before solving, and every short target has its reason."""

from __future__ import annotations

import numpy as np

from matching.feasibility import diagnose_problem
from matching.problem import Exclusions, MatchingProblem, Pairs, Reviewers, Targets
from matching.reasons import ExclusionKind, ShortfallReason
from matching.solve import solve
from tests.matching.problems import complete_problem, with_conflicts


def reasons(problem: MatchingProblem, algorithm: str = "optimal") -> dict[object, str]:
    return solve(problem, algorithm).unfilled_by_target()


def test_supply_below_demand_is_named_in_the_warnings() -> None:
    result = solve(complete_problem(np.full((5, 2), 0.5), demand=2, capacity=3), "optimal")
    assert "demand 10 exceeds total reviewer capacity 6 by 4" in result.warnings
    assert result.metrics.assigned == 6


def test_a_target_without_candidates_has_no_eligible_reviewer() -> None:
    problem = MatchingProblem(
        Targets.one_per_proposal(["p0", "p1"], 1),
        Reviewers.uniform(["r0"], 5),
        Pairs.of([0], [0], [0.5]),
    )
    assert reasons(problem) == {"p1": ShortfallReason.NO_ELIGIBLE.value}


def test_a_target_whose_only_candidates_conflict_says_conflict_of_interest() -> None:
    problem = with_conflicts(complete_problem([[0.5, 0.5], [0.5, 0.5]]), [(1, 0), (1, 1)])
    assert reasons(problem) == {"p1": ShortfallReason.CONFLICT.value}
    assert "1 target(s) cannot be filled: conflict of interest" in solve(problem).warnings


def test_a_target_with_fewer_eligible_reviewers_than_k_says_so() -> None:
    problem = complete_problem([[0.5, 0.4]], demand=3)
    assert reasons(problem) == {"p0": ShortfallReason.TOO_FEW_ELIGIBLE.value}
    assert solve(problem).metrics.assigned == 2


def test_a_target_whose_reviewers_are_full_says_at_capacity() -> None:
    problem = complete_problem([[0.9], [0.5]], capacity=1)
    for algorithm in ("greedy", "optimal", "fair"):
        assert reasons(problem, algorithm) == {"p1": ShortfallReason.AT_CAPACITY.value}


def test_declined_and_other_exclusions_without_conflict_mean_no_eligible_reviewer() -> None:
    base = complete_problem([[0.5]])
    problem = MatchingProblem(
        base.targets,
        base.reviewers,
        base.candidates,
        Exclusions.of([0], [0], [ExclusionKind.DECLINED]),
    )
    assert reasons(problem) == {"p0": ShortfallReason.NO_ELIGIBLE.value}


def test_a_feasible_problem_has_no_warnings_and_no_shortfalls() -> None:
    result = solve(complete_problem(np.full((4, 4), 0.3), demand=2, capacity=2))
    assert result.warnings == () and result.shortfalls == ()


def test_two_reviews_of_one_proposal_with_one_shared_reviewer_are_diagnosed() -> None:
    problem = MatchingProblem(
        Targets(["review1", "review2"], np.array([1, 1]), np.array([0, 0])),
        Reviewers.uniform(["r0"], 5),
        Pairs.of([0, 1], [0, 0], [0.5, 0.5]),
    )
    result = solve(problem)
    assert result.metrics.assigned == 1
    assert "1 proposal(s) have fewer distinct eligible reviewers than their targets need" in (
        result.warnings
    )
    assert list(result.unfilled_by_target().values()) == [ShortfallReason.TOO_FEW_ELIGIBLE.value]


def test_the_diagnosis_is_available_without_solving() -> None:
    diagnosis = diagnose_problem(complete_problem(np.full((5, 2), 0.5), demand=2, capacity=3))
    assert not diagnosis.feasible
    assert (diagnosis.total_demand, diagnosis.total_capacity) == (10, 6)
