"""Two first uses of one Idempotency-Key at the same moment (PostgreSQL, real threads): one
request, both answered with it; another body in the race is a mismatch, never a 500."""

from __future__ import annotations

from peewee import Database

from store import AssignmentRequest
from store.enums import RequestKind
from tasks.errors import IdempotencyKeyMismatch
from tasks.requests.lifecycle import submit_request
from tests.builders import run_at_once

BODY = {"reviewIds": ["rev_1"], "assignmentStrategy": {"type": "specific", "assignTo": ["u"]}}


def test_two_first_uses_of_a_key_at_once_make_one_request(pg_db: Database) -> None:
    for round_ in range(5):
        key = f"race-{round_}"

        def first_use(key: str = key) -> object:
            return submit_request(RequestKind.ASSIGN_REVIEWS, BODY, idempotency_key=key)

        results = run_at_once(*[first_use] * 4)
        ids = {request.id for request, _created in results}
        assert len(ids) == 1, results
        assert sum(created for _request, created in results) == 1
        assert (
            AssignmentRequest.select().where(AssignmentRequest.idempotency_key == key).count() == 1
        )


def test_another_body_in_the_race_is_a_mismatch(pg_db: Database) -> None:
    other = {**BODY, "priority": "low"}
    results = run_at_once(
        lambda: submit_request(RequestKind.ASSIGN_REVIEWS, BODY, idempotency_key="k"),
        lambda: submit_request(RequestKind.ASSIGN_REVIEWS, other, idempotency_key="k"),
    )
    refused = [r for r in results if isinstance(r, IdempotencyKeyMismatch)]
    assert len(refused) == 1
    assert AssignmentRequest.select().count() == 1
