"""bench/sql_floor.py replays what reviewq's own code did: the same reviews assigned to the same
reviewers, each e-mail's row written and marked sent under the id the replay gave it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from peewee import Database
from sql_floor import record, replay

from config import get_settings
from store import AssignmentRequest, Review
from store.db import GENERIC_PLANS
from store.enums import NotificationStatus, RequestStatus, ReviewState
from store.outbox import Notification
from tests.builders import PG_URL
from tests.factories import make_call, make_proposal, make_review, make_reviewer


def _plan() -> Any:
    call = make_call()
    for n in range(4):
        make_review(make_proposal(call), external_id=f"rv_{n}")
    for n in range(3):
        make_reviewer(f"rev_{n}")
    pool = ["rev_0", "rev_1", "rev_2"]
    bodies = [
        {
            "reviewIds": [f"rv_{2 * i}", f"rv_{2 * i + 1}"],
            "assignmentStrategy": {"type": "load_balanced", "pool": pool},
            "notifyReviewers": True,
        }
        for i in range(2)
    ]
    return SimpleNamespace(ids=[str(uuid.uuid4()) for _ in bodies], bodies=bodies)


def _state() -> tuple[list[Any], list[Any], list[Any]]:
    reviews = list(
        Review.select(Review.external_id, Review.reviewer, Review.state)
        .order_by(Review.external_id)
        .tuples()
    )
    mail = list(
        Notification.select(Notification.recipient, Notification.status, Notification.subject)
        .order_by(Notification.recipient)
        .tuples()
    )
    requests = list(
        AssignmentRequest.select(AssignmentRequest.uuid, AssignmentRequest.status)
        .order_by(AssignmentRequest.uuid)
        .tuples()
    )
    return reviews, mail, requests


def _undo() -> None:
    Review.update(reviewer=None, state=ReviewState.UNASSIGNED, assigned_at=None).execute()
    AssignmentRequest.delete().execute()
    Notification.delete().execute()


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The `.eml` drop of this test alone."""
    monkeypatch.setenv("REVIEWQ_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings().outbox_dir
    get_settings.cache_clear()


def test_a_replay_leaves_what_the_recording_left(pg_db: Database, outbox: Path) -> None:
    plan = _plan()

    recorded = record(plan)
    reviews, mail, requests = _state()
    recorded_ids = {n.id for n in Notification.select()}
    assert [state for _, _, state in reviews] == [ReviewState.IN_REVIEW] * 4
    assert {status for _, status, _ in mail} == {NotificationStatus.SENT}
    assert len(mail) == 4 and len(list(outbox.iterdir())) == 4
    assert [status for _, status in requests] == [RequestStatus.SUCCEEDED] * 2
    assert recorded.prepares and all(p.startswith("PREPARE rq_") for p in recorded.prepares)

    _undo()
    pg_db.close()  # the replay's connections prepare the statements themselves
    figures = replay(recorded, PG_URL, GENERIC_PLANS, connections=2)

    assert _state() == (reviews, mail, requests)
    # the rows are new ones, and still each marked sent: the claims followed the new ids
    assert not {n.id for n in Notification.select()} & recorded_ids
    assert figures["requests"] == 2 and figures["requests_per_s"] > 0
    assert figures["statements_per_request"] == recorded.statements / 2
