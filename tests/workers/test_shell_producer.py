"""examples/produce.sh: a producer with redis-cli alone (the README's message format) feeds a
real worker; the same idempotency key twice is one request."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import AssignmentRequest, Review
from store.enums import RequestStatus, ReviewState
from tests.builders import REDIS_URL
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from tests.workers.conftest import StartWorker

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "produce.sh"


def produce(body_file: Path, key: str) -> str:
    done = subprocess.run(
        [str(SCRIPT), str(body_file), key],
        env={**os.environ, "REDIS_URL": REDIS_URL},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.e2e
def test_a_shell_producer_feeds_a_worker(
    pg_db: Database, redis_client: Any, start_worker: StartWorker, tmp_path: Path
) -> None:
    make_review(make_proposal(make_call()), "rev_sh")
    make_reviewer("user_sh", name='O\'Brien "Shell" Reviewer')
    body = tmp_path / "request.json"
    body.write_text(
        json.dumps(
            {
                "reviewIds": ["rev_sh"],
                "assignmentStrategy": {"type": "specific", "assignTo": ["user_sh"]},
                "notifyReviewers": False,
            }
        )
    )
    assert "queued shell-1" in produce(body, "shell-1")
    start_worker()
    deadline = time.monotonic() + 60
    while (
        not AssignmentRequest.select()
        .where(
            AssignmentRequest.idempotency_key == "shell-1",
            AssignmentRequest.status == RequestStatus.SUCCEEDED,
        )
        .exists()
    ):
        assert time.monotonic() < deadline, "the worker did not run the shell's message"
        time.sleep(0.3)
    produce(body, "shell-1")  # the same key again: one effect
    time.sleep(3)
    assert (
        AssignmentRequest.select().where(AssignmentRequest.idempotency_key == "shell-1").count()
        == 1
    )
    review = Review.get(Review.external_id == "rev_sh")
    assert review.state == ReviewState.IN_REVIEW and review.reviewer.external_id == "user_sh"
    assert redis_client.llen("reviewq:assignments") == 0
    assert redis_client.hlen("reviewq:assignments.msgs") == 0, "both messages acknowledged"
