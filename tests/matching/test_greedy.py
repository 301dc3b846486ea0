"""`greedy`: proposal by proposal, the best eligible reviewers with room."""

from __future__ import annotations

import numpy as np

from matching.solve import solve
from tests.matching.problems import complete_problem, with_conflicts


def chosen(problem_scores: list[list[float]], **kwargs: int) -> list[list[int]]:
    result = solve(complete_problem(problem_scores, **kwargs), "greedy")
    out: list[list[int]] = [[] for _ in problem_scores]
    for t, r in zip(result.pairs.target.tolist(), result.pairs.reviewer.tolist(), strict=True):
        out[t].append(r)
    return out


def test_greedy_takes_the_highest_scores_of_the_first_proposal_first() -> None:
    assert chosen([[0.1, 0.9, 0.5], [0.8, 0.7, 0.6]], demand=2, capacity=1) == [[1, 2], [0]]


def test_greedy_breaks_ties_by_load_then_reviewer_order() -> None:
    assert chosen([[0.5, 0.5, 0.5]], demand=2) == [[0, 1]]
    assert chosen([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], demand=2) == [[0, 1], [0, 2]]


def test_greedy_skips_conflicted_reviewers() -> None:
    problem = with_conflicts(complete_problem([[0.9, 0.1]]), [(0, 0)])
    result = solve(problem, "greedy")
    assert result.pairs.reviewer.tolist() == [1]


def test_greedy_respects_capacity_across_proposals() -> None:
    result = solve(complete_problem(np.full((5, 2), 0.5), capacity=2), "greedy")
    assert np.bincount(result.pairs.reviewer).tolist() == [2, 2]
    assert len(result.shortfalls) == 1
