"""Several worker processes on overlapping pools never take a reviewer above capacity."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import AssignmentRequest, Review
from store.enums import RequestStatus, ReviewState
from store.workload import workloads
from tasks.producers import enqueue_assign_reviews
from tests.builders import REDIS_URL, unfinished
from tests.factories import give_in_review, make_call, make_proposal, make_review, make_reviewer
from workers.supervisor import start_dramatiq

pytestmark = pytest.mark.e2e

CAP = 6


def test_overlapping_requests_on_many_workers_respect_max_per_reviewer(
    db: Database, db_url: str, redis_client: Any, tmp_path: Path
) -> None:
    call = make_call()
    reviewers = [make_reviewer(f"u{i}") for i in range(8)]
    for i, reviewer in enumerate(reviewers):
        give_in_review(reviewer, make_proposal(call), i % 3)
    env = {"DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "REVIEWQ_DATA_DIR": str(tmp_path)}
    with (tmp_path / "workers.log").open("wb") as log:
        proc = start_dramatiq(
            2, 4, env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        ids = []
        strategies = ["round_robin", "load_balanced", "expertise_based", "specific"]
        for n in range(24):
            reviews = [make_review(make_proposal(call), f"r{n}_{k}").external_id for k in range(4)]
            pool = [r.external_id for r in reviewers[n % 5 : n % 5 + 4]]
            kind = strategies[n % 4]
            key = "assignTo" if kind == "specific" else "pool"
            body = {
                "reviewIds": reviews,
                "assignmentStrategy": {"type": kind, key: pool, "maxPerReviewer": CAP},
            }
            ids.append(enqueue_assign_reviews(body).id)
        deadline = time.monotonic() + 120
        while unfinished(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    requests = list(AssignmentRequest.select().where(AssignmentRequest.id.in_(ids)))
    assert {r.status for r in requests} == {RequestStatus.SUCCEEDED}
    loads = workloads([r.id for r in reviewers])
    assert max(loads.values()) <= CAP
    assigned = sum(r.result["assigned"] for r in requests)
    assert (
        assigned
        == Review.select()
        .where(Review.state == ReviewState.IN_REVIEW, Review.external_id.is_null(False))
        .count()
    )
    before = {r.id: i % 3 for i, r in enumerate(reviewers)}
    assert assigned == sum(loads[r] - before[r] for r in loads)
    # 96 reviews for 41 free slots: the pools were contended and most reviewers filled up
    assert sum(load == CAP for load in loads.values()) >= 6
