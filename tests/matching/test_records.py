"""Problems built from labelled records do not depend on row order."""

from __future__ import annotations

from matching.records import call_problem
from matching.solve import solve

ROWS = [("p2", "bob", 0.4), ("p1", "alice", 0.9), ("p1", "bob", 0.3), ("p2", "alice", 0.2)]


def test_ids_are_sorted_so_row_order_does_not_matter() -> None:
    a = solve(call_problem(ROWS, reviewers_per_proposal=1, max_load=1)).assignments_by_target()
    b = solve(
        call_problem(ROWS[::-1], reviewers_per_proposal=1, max_load=1)
    ).assignments_by_target()
    assert a == b == {"p1": [("alice", 0.9)], "p2": [("bob", 0.4)]}


def test_a_conflict_removes_the_pair() -> None:
    problem = call_problem(ROWS, [("p1", "alice")], reviewers_per_proposal=1, max_load=2)
    assert solve(problem).assignments_by_target()["p1"] == [("bob", 0.3)]


def test_a_reviewer_named_only_in_conflicts_is_known_but_never_a_candidate() -> None:
    problem = call_problem(ROWS, [("p1", "zoe")], reviewers_per_proposal=1, max_load=2)
    assert "zoe" in problem.reviewers.ids
    assert "zoe" not in {r for rs in solve(problem).assignments_by_target().values() for r, _ in rs}
