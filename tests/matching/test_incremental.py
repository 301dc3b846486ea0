"""Incremental re-solve: existing assignments stay, only the gaps are filled."""

from __future__ import annotations

import numpy as np

from matching.problem import Exclusions, MatchingProblem, Pairs
from matching.reasons import ExclusionKind
from matching.solve import solve
from matching.validation import find_violations
from tests.matching.problems import random_problem


def keys(pairs: Pairs) -> set[tuple[int, int]]:
    return set(zip(pairs.target.tolist(), pairs.reviewer.tolist(), strict=True))


def decline(problem: MatchingProblem, declined: list[tuple[int, int]]) -> MatchingProblem:
    x = problem.exclusions
    return MatchingProblem(
        problem.targets,
        problem.reviewers,
        problem.candidates,
        Exclusions.of(
            np.concatenate([x.target, [t for t, _ in declined]]),
            np.concatenate([x.reviewer, [r for _, r in declined]]),
            [ExclusionKind.CONFLICT] * len(x) + [ExclusionKind.DECLINED] * len(declined),
        ),
    )


def test_re_solving_after_declines_keeps_every_other_assignment() -> None:
    problem = random_problem(seed=7, n_targets=40, n_reviewers=20, capacity=5)
    first = solve(problem, "optimal")
    declined = [(int(first.pairs.target[i]), int(first.pairs.reviewer[i])) for i in (0, 5)]
    kept = keys(first.pairs) - set(declined)
    keep = np.array([(t, r) in kept for t, r in keys_list(first.pairs)])
    fixed = Pairs(first.pairs.target[keep], first.pairs.reviewer[keep], first.pairs.score[keep])
    again = solve(decline(problem, declined), "optimal", fixed=fixed)
    assert kept <= keys(again.pairs)
    assert not set(declined) & keys(again.pairs)
    assert again.fixed_count == len(fixed)
    assert find_violations(decline(problem, declined), again.pairs) == []


def test_re_solving_counts_fixed_assignments_against_capacity_and_demand() -> None:
    problem = random_problem(seed=2, n_targets=10, n_reviewers=6, capacity=4)
    first = solve(problem, "optimal")
    again = solve(problem, "optimal", fixed=first.pairs)
    assert keys(again.pairs) == keys(first.pairs)
    assert again.metrics.total == first.metrics.total


def test_a_fixed_reviewer_is_not_given_another_target_of_the_same_proposal() -> None:
    from tests.matching.problems import complete_problem

    base = complete_problem([[0.9, 0.1], [0.9, 0.1]], capacity=2)
    shared = MatchingProblem(
        base.targets.__class__(["a", "b"], base.targets.demand, np.array([0, 0])),
        base.reviewers,
        base.candidates,
    )
    again = solve(shared, "optimal", fixed=Pairs.of([0], [0], [0.9]))
    assert keys(again.pairs) == {(0, 0), (1, 1)}


def keys_list(pairs: Pairs) -> list[tuple[int, int]]:
    return list(zip(pairs.target.tolist(), pairs.reviewer.tolist(), strict=True))
