"""Property-based fuzzing of every endpoint of /openapi.json (schemathesis, in-process ASGI), on
SQLite and PostgreSQL: no input gives a 5xx, and a refused request (4xx) writes nothing.

Requests go out as staff, as a reviewer, or without a token; path ids are often those of real
records, so the handlers run past their lookups. Bounded and deterministic: `derandomize`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from peewee import Database

from api.app import create_app
from store import AssignmentBatch, AssignmentItem, AssignmentRequest, Notification, Review
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_conflict,
    make_pool_entry,
    make_proposal,
    make_review,
    make_reviewer,
    make_user,
    with_token,
)

MAX_EXAMPLES = 12
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
WRITTEN = (AssignmentBatch, AssignmentItem, Review, Notification, AssignmentRequest)


@dataclass
class Records:
    """Real ids per path prefix, and the Authorization headers of each kind of caller."""

    ids: dict[str, list[str]]
    auth: list[dict[str, str]]


@pytest.fixture
def records(db: Database, redis_client: Any, monkeypatch: pytest.MonkeyPatch) -> Records:
    """A call with a manager, pool, proposals, a review, sent and draft batches with pending,
    declined and COI-blocked items; queued requests answer 202 at once (no worker runs)."""
    monkeypatch.setenv("REVIEWQ_API_WAIT_SECONDS", "0")
    call = make_call(external_id="call_fuzz")
    manager = make_call_manager(call)
    reviewer_user = make_user()
    reviewer = make_reviewer(user=reviewer_user, external_id="rev_fuzz")
    make_pool_entry(call, make_reviewer())
    proposal = make_proposal(call, state="submitted")
    make_review(proposal, external_id="review_fuzz")
    make_conflict(call, reviewer, proposal)
    now = utcnow()
    sent = make_assignment_batch(
        call, reviewer, status=BatchStatus.SENT, sent_at=now, expires_at=now + timedelta(days=3)
    )
    items = [
        make_assignment_item(sent, proposal, status=ItemStatus.COI_BLOCKED, has_coi=True),
        make_assignment_item(sent),
        make_assignment_item(sent, status=ItemStatus.DECLINED),
    ]
    draft = make_assignment_batch(call)
    items.append(make_assignment_item(draft))
    return Records(
        ids={
            "/api/assignment-items/": [str(i.uuid) for i in items],
            "/api/assignment-batches/": [str(sent.uuid), str(draft.uuid)],
            "/api/my-assignment-batches/": [str(sent.uuid)],
            "/api/proposal-protected-calls/": [str(call.uuid)],
        },
        auth=[with_token(make_user(is_staff=True)), with_token(reviewer_user), with_token(manager)],
    )


def _choice(case: Any, salt: str, n: int) -> int:
    """A deterministic pick in range(n) from the case's content (hypothesis shrinks it too)."""
    key = repr((case.path_parameters, case.query, case.body, salt)).encode()
    return zlib.crc32(key) % n


def _with_real_ids(case: Any, records: Records) -> None:
    for prefix, ids in records.ids.items():
        has_uuid = "uuid" in (case.path_parameters or {})
        if has_uuid and case.path.startswith(prefix) and _choice(case, "id", 4):
            case.path_parameters["uuid"] = ids[_choice(case, "which", len(ids))]


def _headers(case: Any, records: Records) -> dict[str, str]:
    """Mostly staff; a reviewer, a manager, or no token at all in some cases."""
    staff, reviewer, manager = records.auth
    return [{}, reviewer, manager, staff, staff, staff, staff, staff][_choice(case, "auth", 8)]


def _row_counts() -> list[int]:
    return [model.select().count() for model in WRITTEN]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_server_error_or_a_partial_write(case: Any, records: Records) -> None:
    _with_real_ids(case, records)
    before = _row_counts()
    response = case.call(headers=_headers(case, records))
    assert response.status_code < 500, response.text
    if 400 <= response.status_code < 500:
        assert _row_counts() == before, f"{response.status_code} but rows changed"
