"""The independent validator catches each kind of violation."""

from __future__ import annotations

from matching.problem import Pairs
from matching.validation import find_violations
from tests.matching.problems import complete_problem, with_conflicts


def kinds(pairs: Pairs, capacity: int = 5) -> list[str]:
    problem = with_conflicts(
        complete_problem([[0.5, 0.4], [0.3, 0.2]], capacity=capacity), [(1, 1)]
    )
    return [v.kind for v in find_violations(problem, pairs)]


def test_a_valid_assignment_has_no_violations() -> None:
    assert kinds(Pairs.of([0, 1], [0, 0], [0.5, 0.3])) == []


def test_an_excluded_pair_is_a_violation() -> None:
    assert kinds(Pairs.of([1], [1], [0.2])) == ["excluded pair"]


def test_exceeding_capacity_is_a_violation() -> None:
    assert kinds(Pairs.of([0, 1], [0, 0], [0.5, 0.3]), capacity=1) == ["over capacity"]


def test_a_repeated_pair_and_an_overfilled_target_are_violations() -> None:
    assert kinds(Pairs.of([0, 0], [0, 0], [0.5, 0.5])) == [
        "reviewer twice on one proposal",
        "over demand",
    ]


def test_a_pair_that_was_never_a_candidate_or_has_a_wrong_score_is_a_violation() -> None:
    assert kinds(Pairs.of([0], [5], [0.5])) == ["unknown index"]
    assert kinds(Pairs.of([1], [0], [0.3, 0.1][:1])) == []
    assert kinds(Pairs.of([0], [0], [0.9])) == ["wrong score"]
