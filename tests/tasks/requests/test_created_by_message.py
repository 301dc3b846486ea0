"""A request its message creates (a producer that only pushes the message): written running and
run in one transaction, so a transient failure leaves nothing behind and two deliveries of one
message at once run it once (PostgreSQL, real threads)."""

from __future__ import annotations

from typing import Any

import pytest
from peewee import Database, OperationalError

from store import AssignmentRequest, Review
from store.enums import RequestKind, RequestStatus, ReviewState
from store.outbox import Notification
from tasks.bulk.assign import assign_reviews
from tasks.requests.lifecycle import Outcome, process_request
from tests.builders import run_at_once
from tests.factories import make_call, make_proposal, make_review, make_reviewer

KIND = RequestKind.ASSIGN_REVIEWS


def _message(key: str | None = None) -> dict[str, Any]:
    call = make_call()
    make_review(make_proposal(call), external_id="rv_1")
    make_reviewer("rev_1")
    body = {
        "reviewIds": ["rv_1"],
        "assignmentStrategy": {"type": "specific", "assignTo": ["rev_1"]},
        "notifyReviewers": True,
    }
    return {"request": body} if key is None else {"request": body, "idempotency_key": key}


def test_a_transient_failure_leaves_no_row_and_the_redelivery_runs_it(db: Database) -> None:
    message = _message()

    def down(raw: Any, **_: Any) -> Any:
        raise OperationalError("the database went away")

    with pytest.raises(OperationalError):
        process_request(KIND, message, down)
    assert AssignmentRequest.select().count() == 0
    assert Review.get().state == ReviewState.UNASSIGNED

    outcome = process_request(KIND, message, assign_reviews)
    assert outcome is not None and outcome.status == RequestStatus.SUCCEEDED
    (request,) = AssignmentRequest.select()
    assert (request.status, request.attempts) == (RequestStatus.SUCCEEDED, 1)
    assert request.started_at is not None and request.finished_at is not None
    assert Review.get().state == ReviewState.IN_REVIEW


def test_two_deliveries_of_one_message_at_once_run_it_once(pg_db: Database) -> None:
    message = _message(key="pushed-twice")
    results = run_at_once(*[lambda: process_request(KIND, message, assign_reviews)] * 4)
    ran = [r for r in results if isinstance(r, Outcome)]
    assert [r.status for r in ran] == [RequestStatus.SUCCEEDED], results
    assert results.count(None) == 3
    (request,) = AssignmentRequest.select()
    assert request.status == RequestStatus.SUCCEEDED
    assert request.result["assigned"] == 1
    assert Notification.select().count() == 1
