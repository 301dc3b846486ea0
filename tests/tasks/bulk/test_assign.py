"""Bulk review assignment (seeds/004) as a use case, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from peewee import Database

from store import AssignmentRequest, Notification, Review, Reviewer
from store.enums import Priority, RequestKind, RequestStatus, ReviewState
from tasks.bulk.assign import assign_reviews
from tasks.messages import message_for
from tasks.requests.lifecycle import process_request, submit_request
from tests.factories import (
    give_in_review,
    make_affinity,
    make_call,
    make_conflict,
    make_proposal,
    make_review,
    make_reviewer,
)


def run(body: Any, key: str | None = None) -> AssignmentRequest:
    request, _ = submit_request(RequestKind.ASSIGN_REVIEWS, body, idempotency_key=key)
    process_request(RequestKind.ASSIGN_REVIEWS, message_for(request), assign_reviews)
    return AssignmentRequest.get_by_id(request.id)


@pytest.fixture
def seed_world(db: Database) -> dict[str, Any]:
    """The seeds/004 example: three reviews, three reviewers with workloads 7, 6 and 8."""
    call = make_call()
    other = make_proposal(call)
    reviewers = [make_reviewer(f"user_00{i}") for i in (1, 2, 3)]
    for reviewer, load in zip(reviewers, (7, 6, 8), strict=True):
        give_in_review(reviewer, other, load)
    reviews = [make_review(make_proposal(call), ext) for ext in ("rev_123", "rev_456", "rev_789")]
    return {"call": call, "reviewers": reviewers, "reviews": reviews}


SEED_BODY = {
    "reviewIds": ["rev_123", "rev_456", "rev_789"],
    "assignmentStrategy": {
        "type": "round_robin",
        "pool": ["user_001", "user_002", "user_003"],
        "maxPerReviewer": 10,
    },
    "priority": "high",
    "deadline": "2024-01-16T17:00:00Z",
}


def test_the_seed_example_gives_the_seed_response(seed_world: dict[str, Any]) -> None:
    request = run(SEED_BODY)
    assert request.status == RequestStatus.SUCCEEDED
    assert request.http_status == 200
    assert request.result == {
        "assigned": 3,
        "failed": 0,
        "assignments": [
            {"reviewId": "rev_123", "assignedTo": "user_001", "status": "success"},
            {"reviewId": "rev_456", "assignedTo": "user_002", "status": "success"},
            {"reviewId": "rev_789", "assignedTo": "user_003", "status": "success"},
        ],
        "summary": [
            {"userId": "user_001", "assignedCount": 1, "totalWorkload": 8},
            {"userId": "user_002", "assignedCount": 1, "totalWorkload": 7},
            {"userId": "user_003", "assignedCount": 1, "totalWorkload": 9},
        ],
    }
    review = Review.get(Review.external_id == "rev_123")
    assert review.state == ReviewState.IN_REVIEW
    assert review.reviewer.external_id == "user_001"
    assert review.priority == Priority.HIGH
    assert review.deadline == datetime(2024, 1, 16, 17, 0)


def test_one_email_per_reviewer_per_request_listing_all_their_reviews(db: Database) -> None:
    call = make_call()
    alice, bob = make_reviewer("alice"), make_reviewer("bob")
    ids = [make_review(make_proposal(call), f"r{i}").external_id for i in range(5)]
    request = run(
        {"reviewIds": ids, "assignmentStrategy": {"type": "round_robin", "pool": ["alice", "bob"]}}
    )
    mails = list(Notification.select().order_by(Notification.recipient))
    assert [m.recipient for m in mails] == sorted([alice.email, bob.email])
    alice_mail = next(m for m in mails if m.recipient == alice.email)
    for review_id in ("r0", "r2", "r4"):
        assert review_id in alice_mail.text_body
    assert "r1" not in alice_mail.text_body
    assert all(str(request.uuid) in m.dedupe_key for m in mails)


def test_no_email_when_notify_reviewers_is_false(db: Database) -> None:
    make_reviewer("alice")
    make_review(make_proposal(make_call()), "r1")
    request = run(
        {
            "reviewIds": ["r1"],
            "assignmentStrategy": {"type": "specific", "assignTo": ["alice"]},
            "notifyReviewers": False,
        }
    )
    assert request.result["assigned"] == 1
    assert Notification.select().count() == 0


def test_round_robin_continues_the_rotation_in_the_next_request(seed_world: dict[str, Any]) -> None:
    call = seed_world["call"]
    make_review(make_proposal(call), "rev_next")
    run({**SEED_BODY, "reviewIds": ["rev_123"]})
    second = run({**SEED_BODY, "reviewIds": ["rev_456", "rev_next"]})
    assert [a["assignedTo"] for a in second.result["assignments"]] == ["user_002", "user_003"]


def test_an_assigned_review_is_not_moved_and_its_entry_fails(seed_world: dict[str, Any]) -> None:
    run({**SEED_BODY, "reviewIds": ["rev_123"]})
    again = run(
        {
            "reviewIds": ["rev_123", "rev_456"],
            "assignmentStrategy": {"type": "specific", "assignTo": ["user_003"]},
        }
    )
    assert again.result["assignments"][0] == {
        "reviewId": "rev_123",
        "assignedTo": None,
        "status": "failed",
        "error": "Review is already assigned to user_001 (in_review)",
    }
    assert again.result["assignments"][1]["assignedTo"] == "user_003"
    assert Review.get(Review.external_id == "rev_123").reviewer.external_id == "user_001"


def test_a_blocking_conflict_fails_specific_and_is_skipped_by_round_robin(db: Database) -> None:
    call = make_call()
    proposal = make_proposal(call)
    conflicted, free = make_reviewer("conflicted"), make_reviewer("free")
    make_conflict(call, conflicted, proposal)
    make_review(proposal, "r1")
    make_review(proposal, "r2")
    specific = run(
        {
            "reviewIds": ["r1"],
            "assignmentStrategy": {"type": "specific", "assignTo": ["conflicted"]},
        }
    )
    assert specific.result["assignments"][0]["error"] == "Reviewer conflicted: conflict of interest"
    rr = run(
        {
            "reviewIds": ["r1"],
            "assignmentStrategy": {"type": "round_robin", "pool": ["conflicted", "free"]},
        }
    )
    assert rr.result["assignments"][0]["assignedTo"] == "free"
    # free now reviews that proposal: the second review of it may go to nobody in this pool
    rr2 = run(
        {
            "reviewIds": ["r2"],
            "assignmentStrategy": {"type": "round_robin", "pool": ["conflicted", "free"]},
        }
    )
    assert rr2.result["assignments"][0]["status"] == "failed"
    assert Review.get(Review.external_id == "r2").state == ReviewState.UNASSIGNED
    assert free.id == Review.get(Review.external_id == "r1").reviewer_id


def test_max_per_reviewer_caps_the_total_workload(db: Database) -> None:
    call = make_call()
    busy = make_reviewer("busy")
    make_reviewer("idle")
    give_in_review(busy, make_proposal(call), 2)
    ids = [make_review(make_proposal(call), f"r{i}").external_id for i in range(4)]
    request = run(
        {
            "reviewIds": ids,
            "assignmentStrategy": {
                "type": "load_balanced",
                "pool": ["busy", "idle"],
                "maxPerReviewer": 3,
            },
        }
    )
    summary = {s["userId"]: s for s in request.result["summary"]}
    assert summary["busy"]["totalWorkload"] == 3
    assert summary["idle"]["totalWorkload"] == 3
    assert request.result["failed"] == 0
    over = run(
        {
            "reviewIds": [make_review(make_proposal(call), "r9").external_id],
            "assignmentStrategy": {
                "type": "load_balanced",
                "pool": ["busy", "idle"],
                "maxPerReviewer": 3,
            },
        }
    )
    assert (
        over.result["assignments"][0]["error"]
        == "All eligible reviewers in the pool are at capacity"
    )


def test_expertise_based_follows_the_affinities(db: Database) -> None:
    call = make_call()
    p1, p2 = make_proposal(call), make_proposal(call)
    graph, biology = make_reviewer("graph"), make_reviewer("biology")
    make_affinity(call, graph, p1, 0.9)
    make_affinity(call, biology, p1, 0.2)
    make_affinity(call, biology, p2, 0.8)
    make_review(p1, "r1")
    make_review(p2, "r2")
    request = run(
        {
            "reviewIds": ["r1", "r2"],
            "assignmentStrategy": {"type": "expertise_based", "pool": ["biology", "graph"]},
        }
    )
    assert [a["assignedTo"] for a in request.result["assignments"]] == ["graph", "biology"]


def test_unknown_reviews_fail_the_whole_request_and_write_nothing(
    seed_world: dict[str, Any],
) -> None:
    request = run({**SEED_BODY, "reviewIds": ["rev_123", "rev_999", "rev_998"]})
    assert request.status == RequestStatus.FAILED
    assert request.http_status == 404
    assert request.result == {
        "error": {
            "code": "REVIEWS_NOT_FOUND",
            "message": "Some review IDs were not found",
            "invalidIds": ["rev_999", "rev_998"],
        }
    }
    assert Review.get(Review.external_id == "rev_123").state == ReviewState.UNASSIGNED


def test_an_unknown_strategy_is_invalid_strategy(seed_world: dict[str, Any]) -> None:
    request = run(
        {**SEED_BODY, "assignmentStrategy": {"type": "alphabetical", "pool": ["user_001"]}}
    )
    assert request.http_status == 400
    assert request.result == {
        "error": {"code": "INVALID_STRATEGY", "message": "Unknown assignment strategy type"}
    }


def test_unknown_reviewers_are_named(seed_world: dict[str, Any]) -> None:
    request = run(
        {**SEED_BODY, "assignmentStrategy": {"type": "round_robin", "pool": ["user_001", "ghost"]}}
    )
    assert request.http_status == 404
    assert request.result["error"]["code"] == "REVIEWERS_NOT_FOUND"
    assert request.result["error"]["invalidIds"] == ["ghost"]


def test_a_malformed_body_is_a_validation_error_naming_the_fields(
    seed_world: dict[str, Any],
) -> None:
    request = run(
        {"reviewIds": "rev_123", "assignmentStrategy": {"type": "specific"}, "priority": "asap"}
    )
    assert request.status == RequestStatus.FAILED
    error = request.result["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert {"reviewIds", "priority", "assignmentStrategy.assignTo"} <= set(error["fields"])
    assert (
        Review.select()
        .where(Review.state == ReviewState.IN_REVIEW, Review.external_id.is_null(False))
        .count()
        == 0
    )


def test_a_message_that_is_not_an_envelope_is_recorded_as_failed(db: Database) -> None:
    outcome = process_request(RequestKind.ASSIGN_REVIEWS, ["not", "a", "dict"], assign_reviews)
    assert outcome is not None and outcome.status == RequestStatus.FAILED
    request = AssignmentRequest.get()
    assert request.result["error"]["code"] == "VALIDATION_ERROR"
    assert request.payload == ["not", "a", "dict"]


def test_the_same_message_twice_has_one_effect(seed_world: dict[str, Any]) -> None:
    first = run(SEED_BODY, key="k-1")
    request, created = submit_request(RequestKind.ASSIGN_REVIEWS, SEED_BODY, idempotency_key="k-1")
    assert not created and request.id == first.id
    assert process_request(RequestKind.ASSIGN_REVIEWS, message_for(request), assign_reviews) is None
    assert AssignmentRequest.select().count() == 1
    assert Notification.select().count() == 3
    assert AssignmentRequest.get_by_id(first.id).result == first.result


def test_a_message_without_request_id_finds_its_request_by_idempotency_key(
    seed_world: dict[str, Any],
) -> None:
    message = {"request": SEED_BODY, "idempotency_key": "from-go"}
    process_request(RequestKind.ASSIGN_REVIEWS, message, assign_reviews)
    process_request(RequestKind.ASSIGN_REVIEWS, message, assign_reviews)
    assert AssignmentRequest.select().count() == 1
    assert AssignmentRequest.get().status == RequestStatus.SUCCEEDED
    assert Reviewer.get(Reviewer.external_id == "user_001").reviews.count() == 8


def test_a_reviewer_without_a_valid_address_is_assigned_but_not_mailed(db: Database) -> None:
    make_reviewer("alice", email="not an address")
    make_review(make_proposal(make_call()), "r1")
    request = run(
        {"reviewIds": ["r1"], "assignmentStrategy": {"type": "specific", "assignTo": ["alice"]}}
    )
    assert request.result["assigned"] == 1
    assert Notification.select().count() == 0
