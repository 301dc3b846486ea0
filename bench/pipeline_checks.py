"""The checks of bench/pipeline_bench.py, on figures read from the store (no I/O here).

Each returns the problems it found, as lines to print; an empty list is a pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

SUCCEEDED = "succeeded"


def request_problems(pushed: Iterable[str], statuses: Mapping[str, str]) -> list[str]:
    """Every pushed request has a row and SUCCEEDED; `statuses` is request uuid -> status."""
    wanted = list(pushed)
    counts = Counter(statuses.get(request_id, "missing") for request_id in wanted)
    return [
        f"{n} of {len(wanted)} requests {status}"
        for status, n in sorted(counts.items())
        if status != SUCCEEDED
    ]


def capacity_problems(
    held: Mapping[str, int], before: Mapping[str, int], cap: int | None
) -> list[str]:
    """No request took a reviewer above the cap: each holds (reviewer label -> reviews in
    review) at most the cap, or what they held `before` the requests if that was more."""
    if cap is None:
        return []
    return [
        f"{label} holds {n} reviews, over maxPerReviewer {cap} (held {before.get(label, 0)})"
        for label, n in sorted(held.items())
        if n > max(cap, before.get(label, 0))
    ]


def given_work(results: Iterable[Mapping[str, Any] | None]) -> Counter[str]:
    """How many requests gave each reviewer (label) at least one review."""
    counts: Counter[str] = Counter()
    for result in results:
        labels = {
            entry["assignedTo"]
            for entry in (result or {}).get("assignments", [])
            if entry.get("status") == "success" and entry.get("assignedTo")
        }
        counts.update(labels)
    return counts


def notification_problems(
    results: Iterable[Mapping[str, Any] | None], notified: Mapping[str, int]
) -> list[str]:
    """One notification per (request, reviewer given work): per reviewer, as many as the
    requests that gave them work (`notified`: reviewer label -> notifications written)."""
    expected = given_work(results)
    problems = []
    for label in sorted(set(expected) | set(notified)):
        want, got = expected.get(label, 0), notified.get(label, 0)
        if want != got:
            problems.append(f"{label}: {got} notifications for {want} requests giving work")
    return problems


def capacity_failures(results: Iterable[Mapping[str, Any] | None]) -> int:
    """The entries that failed because every reviewer of the pool was at capacity."""
    return sum(
        1
        for result in results
        for entry in (result or {}).get("assignments", [])
        if entry.get("status") == "failed" and "capacity" in str(entry.get("error", ""))
    )


def reviews_assigned(results: Iterable[Mapping[str, Any] | None]) -> int:
    return sum(int((result or {}).get("assigned", 0)) for result in results)
