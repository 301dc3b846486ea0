"""The checks of bench/pipeline_bench.py catch what they are there to catch."""

from __future__ import annotations

from typing import Any

from pipeline_checks import (
    capacity_failures,
    capacity_problems,
    notification_problems,
    request_problems,
    reviews_assigned,
)


def result(*entries: tuple[str, str | None, str | None]) -> dict[str, Any]:
    """A seeds/004 answer from (review, assigned to, error) entries."""
    assignments = [
        {"reviewId": review, "assignedTo": to, "status": "failed" if error else "success"}
        | ({"error": error} if error else {})
        for review, to, error in entries
    ]
    assigned = sum(1 for _, _, error in entries if not error)
    return {"assigned": assigned, "failed": len(entries) - assigned, "assignments": assignments}


def test_a_failed_or_missing_request_is_a_problem() -> None:
    statuses = {"a": "succeeded", "b": "failed", "c": "running"}

    problems = request_problems(["a", "b", "c", "d"], statuses)

    assert problems == [
        "1 of 4 requests failed",
        "1 of 4 requests missing",
        "1 of 4 requests running",
    ]
    assert request_problems(["a"], statuses) == []


def test_a_reviewer_over_the_cap_is_a_problem_unless_they_held_that_much_before() -> None:
    held = {"r1": 3, "r2": 4, "r3": 5}
    before = {"r2": 4, "r3": 4}

    problems = capacity_problems(held, before, cap=3)

    assert problems == ["r3 holds 5 reviews, over maxPerReviewer 3 (held 4)"]
    assert capacity_problems({"r1": 9}, {}, cap=None) == []


def test_a_missing_or_duplicated_notification_is_a_problem() -> None:
    results = [
        result(("rev1", "r1", None), ("rev2", "r1", None), ("rev3", "r2", None)),
        result(
            ("rev4", "r1", None),
            ("rev5", None, "All eligible reviewers in the pool are at capacity"),
        ),
    ]

    assert notification_problems(results, {"r1": 2, "r2": 1}) == []
    assert notification_problems(results, {"r1": 1, "r2": 1, "r3": 1}) == [
        "r1: 1 notifications for 2 requests giving work",
        "r3: 1 notifications for 0 requests giving work",
    ]


def test_capacity_failures_and_assigned_reviews_are_counted_from_the_answers() -> None:
    at_capacity = "Reviewer r1 is at capacity (maxPerReviewer 2)"
    results = [result(("rev1", "r1", None), ("rev2", None, at_capacity)), None]

    assert capacity_failures(results) == 1
    assert reviews_assigned(results) == 1
