"""The demo's requests and the checks it makes of their outcome."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from cli.context import console
from store import AssignmentRequest, Notification, Review, Reviewer
from store.enums import RequestStatus, ReviewState
from store.workload import workloads
from tasks.eligibility import blocking_conflicts
from tasks.errors import IdempotencyKeyMismatch
from tasks.producers import enqueue_assign_reviews

SEED_REVIEWS = ["rev_123", "rev_456", "rev_789"]
SEED_POOL = ["user_001", "user_002", "user_003"]


@dataclass
class Scenario:
    name: str
    body: dict[str, Any]
    expect: str = "succeeded"  # or the error code the request must fail with
    idempotency_key: str | None = None
    request: Any = None


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


def _unassigned_reviews() -> list[str]:
    query = Review.select(Review.external_id).where(
        Review.state == ReviewState.UNASSIGNED, Review.external_id.not_in(SEED_REVIEWS)
    )
    return sorted(r for (r,) in query.tuples() if r)


def _scenarios() -> list[Scenario]:
    free = _unassigned_reviews()
    reviewers = sorted(r for (r,) in Reviewer.select(Reviewer.external_id).tuples() if r)
    chunks = [free[0:20], free[20:60], free[60:120], free[120:180]]
    load_balanced = {
        "reviewIds": chunks[2],
        "assignmentStrategy": {
            "type": "load_balanced",
            "pool": reviewers[19:39],
            "maxPerReviewer": 8,
        },
        "priority": "urgent",
    }
    return [
        Scenario(
            "seed example (round robin)",
            {
                "reviewIds": SEED_REVIEWS,
                "assignmentStrategy": {
                    "type": "round_robin",
                    "pool": SEED_POOL,
                    "maxPerReviewer": 10,
                },
                "priority": "high",
                "deadline": "2026-12-16T17:00:00Z",
            },
        ),
        Scenario(
            "specific",
            {
                "reviewIds": chunks[0],
                "assignmentStrategy": {
                    "type": "specific",
                    "assignTo": reviewers[3:7],
                    "maxPerReviewer": 9,
                },
            },
        ),
        Scenario(
            "round robin",
            {
                "reviewIds": chunks[1],
                "assignmentStrategy": {
                    "type": "round_robin",
                    "pool": reviewers[7:19],
                    "maxPerReviewer": 9,
                },
            },
        ),
        Scenario("load balanced", load_balanced, idempotency_key="demo-load-balanced"),
        Scenario(
            "expertise based",
            {
                "reviewIds": chunks[3],
                "assignmentStrategy": {
                    "type": "expertise_based",
                    "pool": reviewers,
                    "maxPerReviewer": 10,
                },
            },
        ),
        Scenario(
            "duplicate (a retry: same idempotency key, same body)",
            load_balanced,
            idempotency_key="demo-load-balanced",
        ),
        Scenario(
            "unknown strategy",
            {
                "reviewIds": free[180:181],
                "assignmentStrategy": {"type": "alphabetical", "pool": reviewers[:2]},
            },
            expect="INVALID_STRATEGY",
        ),
        Scenario(
            "unknown review",
            {
                "reviewIds": [*free[181:182], "rev_999"],
                "assignmentStrategy": {"type": "round_robin", "pool": reviewers[:2]},
            },
            expect="REVIEWS_NOT_FOUND",
        ),
    ]


def send_scenarios() -> list[Scenario]:
    """Queue every scenario's request through the broker, as a producer would."""
    scenarios = _scenarios()
    for scenario in scenarios:
        scenario.request = enqueue_assign_reviews(
            scenario.body, idempotency_key=scenario.idempotency_key
        )
    return scenarios


def check_outcome(
    sent: list[Scenario],
    finished: list[AssignmentRequest],
    document: dict[str, Any],
    data_dir: Path,
    *,
    timeout: float,
) -> list[Check]:
    """Every check the demo makes; each can fail."""
    by_id = {r.id: r for r in finished}
    checks = [_check_status(s, by_id[s.request.id]) for s in sent]
    results: dict[str, dict[str, Any]] = {}
    seen: set[int] = set()
    for s in sent:  # the duplicate shares its request with the first: count that once
        request = by_id[s.request.id]
        if request.id not in seen and request.status == RequestStatus.SUCCEEDED:
            results[s.name] = request.result
        seen.add(request.id)
    checks.append(_check_seed_order(results.get("seed example (round robin)")))
    checks.append(_check_duplicate(sent))
    checks += _check_assignments(results, sent)
    checks.append(_check_mail(results, data_dir, timeout))
    return checks


def _check_status(scenario: Scenario, request: AssignmentRequest) -> Check:
    if scenario.expect == "succeeded":
        passed = request.status == RequestStatus.SUCCEEDED
        detail = "" if passed else f"{request.status.value}: {request.result}"
    else:
        result: dict[str, Any] = request.result or {}
        code = result.get("error", {}).get("code")
        passed = request.status == RequestStatus.FAILED and code == scenario.expect
        detail = f"answered {code}"
    return Check(f"{scenario.name}: {scenario.expect}", passed, detail)


def _check_seed_order(result: dict[str, Any] | None) -> Check:
    got = [a["assignedTo"] for a in (result or {}).get("assignments", [])]
    return Check(
        "seed example: rev_123, rev_456, rev_789 -> user_001, user_002, user_003",
        got == SEED_POOL,
        f"got {got}",
    )


def _check_duplicate(sent: list[Scenario]) -> Check:
    """A retry with the key shares the first request; the key with another body is refused
    before anything is recorded or enqueued."""
    first, again = (s.request for s in sent if s.idempotency_key == "demo-load-balanced")
    other = {**first.payload, "priority": "low"}
    rows = AssignmentRequest.select().count()
    try:
        enqueue_assign_reviews(other, idempotency_key="demo-load-balanced")
        refused = False
    except IdempotencyKeyMismatch:
        refused = AssignmentRequest.select().count() == rows
    return Check(
        "same idempotency key: one request, one effect; another body under it refused",
        first.id == again.id and refused,
        f"{first.uuid} / {again.uuid}; other body refused: {refused}",
    )


def _check_assignments(results: dict[str, dict[str, Any]], sent: list[Scenario]) -> list[Check]:
    chosen: dict[str, str] = {}
    twice = []
    for body in results.values():
        for a in body["assignments"]:
            if a["status"] == "success":
                if a["reviewId"] in chosen:
                    twice.append(a["reviewId"])
                chosen[a["reviewId"]] = a["assignedTo"]
    reviews = {
        r.external_id: r for r in Review.select().where(Review.external_id.in_(list(chosen)))
    }
    reviewers = {r.external_id: r for r in Reviewer.select()}
    stored = all(
        reviews[k].reviewer_id == reviewers[v].id and reviews[k].state == ReviewState.IN_REVIEW
        for k, v in chosen.items()
    )
    pairs = {(reviewers[v].id, reviews[k].proposal_id) for k, v in chosen.items()}
    conflicts = blocking_conflicts({r for r, _ in pairs}, {p for _, p in pairs}) & pairs
    caps = {s.name: s.body["assignmentStrategy"].get("maxPerReviewer") for s in sent}
    over = [
        (name, row["userId"], row["totalWorkload"])
        for name, body in results.items()
        for row in body["summary"]
        if caps.get(name) and row["totalWorkload"] > caps[name]
    ]
    final = workloads([r.id for r in reviewers.values()])
    return [
        Check(
            "every success is stored: review in_review with that reviewer",
            stored,
            f"{len(chosen)} reviews",
        ),
        Check("no review assigned twice", not twice, ", ".join(twice)),
        Check(
            "no assignment with a blocking conflict of interest",
            not conflicts,
            f"{len(conflicts)} found",
        ),
        Check("no reviewer above maxPerReviewer", not over, str(over[:3])),
        Check(
            "workloads in the store match the last summaries",
            _summaries_match(results, reviewers, final),
            "",
        ),
    ]


def _summaries_match(
    results: dict[str, dict[str, Any]], reviewers: dict[str, Any], final: dict[int, int]
) -> bool:
    # Requests ran one after another per reviewer, so the highest totalWorkload reported for a
    # reviewer is the one after the last request that gave them work.
    last: dict[str, int] = defaultdict(int)
    for body in results.values():
        for row in body["summary"]:
            last[row["userId"]] = max(last[row["userId"]], row["totalWorkload"])
    return all(final[reviewers[uid].id] == n for uid, n in last.items())


def _check_mail(results: dict[str, dict[str, Any]], data_dir: Path, timeout: float) -> Check:
    expected = sum(len(body["summary"]) for body in results.values())
    outbox = data_dir / "outbox"
    deadline = time.monotonic() + timeout
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if len(files) >= expected:
            break
        time.sleep(0.2)
    rows = Notification.select().count()
    return Check(
        "one e-mail per reviewer per request, delivered to the mail drop",
        len(files) == expected == rows,
        f"{len(files)} .eml files, {rows} outbox rows, {expected} expected",
    )


def print_report(
    sent: list[Scenario], finished: list[AssignmentRequest], checks: list[Check], seconds: float
) -> None:
    by_id = {r.id: r for r in finished}
    requests = Table(title="Requests")
    for column in ("scenario", "request", "status", "assigned", "failed", "reviewers"):
        requests.add_column(column)
    for s in sent:
        r = by_id[s.request.id]
        body: dict[str, Any] = r.result or {}
        code = body.get("error", {}).get("code", "")
        requests.add_row(
            s.name,
            str(r.uuid)[:8],
            r.status.value + (f" {code}" if code else ""),
            str(body.get("assigned", "-")),
            str(body.get("failed", "-")),
            str(len(body.get("summary", [])) or "-"),
        )
    table = Table(title="Checks")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail")
    for c in checks:
        table.add_row(c.name, "[green]pass[/]" if c.passed else "[red]FAIL[/]", c.detail)
    console.print(requests, table)
    console.print(f"demo finished in {seconds:.1f} s")
