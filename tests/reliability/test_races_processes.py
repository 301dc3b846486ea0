"""Races between real processes, on PostgreSQL and SQLite: exactly one wins, the other gets the
domain error, and no reviewer goes above capacity.

Each contender is a separate OS process (spawned, with its own database connection) that waits
for a common start instant and then calls the use case; generate runs through real `dramatiq`
worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import AssignmentBatch, AssignmentItem, AssignmentRequest, ReviewerPoolEntry, User
from store.enums import BatchStatus, ItemStatus, RequestStatus
from store.workload import workloads
from tests.builders import REDIS_URL
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_pool_entry,
    make_proposal,
    make_reviewer,
    make_user,
)
from workers.supervisor import start_dramatiq

pytestmark = pytest.mark.e2e


def _contender(url: str, start_at: float, action: str, args: tuple[Any, ...]) -> tuple[str, str]:
    """Runs in a spawned process: connect, wait for the start instant, act, say what happened."""
    from store.db import connect_database
    from tasks.errors import ReviewqError

    connect_database(url)
    time.sleep(max(0.0, start_at - time.time()))
    try:
        _act(action, args)
    except ReviewqError as exc:
        return "refused", exc.message
    return "ok", ""


def _act(action: str, args: tuple[Any, ...]) -> None:
    from store import User
    from store.clock import utcnow
    from tasks.batches.expiry import expire_overdue_batches
    from tasks.items.answers import accept_item
    from tasks.items.reassign import reassign_item

    if action == "accept":
        accept_item(User.get_by_id(args[0]), args[1])
    elif action == "reassign":
        reassign_item(User.get_by_id(args[0]), args[1], args[2])
    elif action == "expire":
        expire_overdue_batches(utcnow())


def race(url: str, *contenders: tuple[str, tuple[Any, ...]]) -> list[tuple[str, str]]:
    """Run every contender in its own process at the same instant; their outcomes in order."""
    start_at = time.time() + 1.5  # room for the spawned interpreters to import everything
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(contenders)) as pool:
        jobs = [pool.apply_async(_contender, (url, start_at, a, args)) for a, args in contenders]
        return [job.get(timeout=60) for job in jobs]


@pytest.fixture
def invitation(db: Database) -> dict[str, Any]:
    call = make_call()
    reviewer_user = make_user()
    reviewer = make_reviewer(user=reviewer_user)
    batch = make_assignment_batch(
        call, reviewer, status=BatchStatus.SENT, expires_at=datetime(2100, 1, 1)
    )
    item = make_assignment_item(batch)
    return {"call": call, "user": reviewer_user, "batch": batch, "item": item}


def test_two_processes_accepting_one_item_make_one_review(
    invitation: dict[str, Any], db_url: str
) -> None:
    user, item = invitation["user"], invitation["item"]
    outcomes = race(
        db_url, ("accept", (user.id, str(item.uuid))), ("accept", (user.id, str(item.uuid)))
    )
    assert sorted(o for o, _ in outcomes) == ["ok", "refused"]
    assert [m for o, m in outcomes if o == "refused"] == ["Can only accept pending assignments."]
    stored = AssignmentItem.get_by_id(item.id)
    assert stored.status == ItemStatus.ACCEPTED and stored.review_id is not None


def test_an_accept_racing_the_expiry_in_another_process_has_one_outcome(
    invitation: dict[str, Any], db_url: str
) -> None:
    user, item, batch = invitation["user"], invitation["item"], invitation["batch"]
    AssignmentBatch.update(expires_at=datetime.utcnow() + timedelta(seconds=1.5)).where(
        AssignmentBatch.id == batch.id
    ).execute()
    outcomes = race(db_url, ("accept", (user.id, str(item.uuid))), ("expire", ()))
    stored = AssignmentItem.get_by_id(item.id)
    accept_outcome, accept_message = outcomes[0]
    if accept_outcome == "ok":
        assert stored.status == ItemStatus.ACCEPTED
    else:
        assert accept_message == "Cannot accept expired assignment."
        assert stored.status == ItemStatus.EXPIRED
    assert stored.status in (ItemStatus.ACCEPTED, ItemStatus.EXPIRED)


def test_two_processes_reassigning_one_item_make_one_new_item_within_capacity(
    db: Database, db_url: str
) -> None:
    call = make_call()
    manager = make_call_manager(call)
    proposal = make_proposal(call)
    old = make_assignment_batch(call, make_reviewer(), status=BatchStatus.SENT)
    declined = make_assignment_item(old, proposal, status=ItemStatus.DECLINED)
    targets = [make_pool_entry(call, make_reviewer(), max_assignments=1) for _ in range(2)]
    outcomes = race(
        db_url,
        ("reassign", (manager.id, str(declined.uuid), str(targets[0].uuid))),
        ("reassign", (manager.id, str(declined.uuid), str(targets[1].uuid))),
    )
    assert sorted(o for o, _ in outcomes) == ["ok", "refused"]
    assert [m for o, m in outcomes if o == "refused"] == [
        "Only declined or expired items can be reassigned."
    ]
    assert AssignmentItem.select().where(AssignmentItem.reassigned_from == declined.id).count() == 1
    loads = workloads([t.reviewer_id for t in targets], call_id=call.id)
    assert sorted(loads.values()) == [0, 1]


def test_two_generates_for_one_call_on_real_workers_fill_each_proposal_once(
    db: Database, db_url: str, redis_client: Any, tmp_path: Path
) -> None:
    from tasks.producers import enqueue_generate

    call = make_call(reviewers_per_proposal=2, algorithm="greedy")
    manager = make_call_manager(call)
    for _ in range(12):
        make_proposal(call)
    entries = [make_pool_entry(call, make_reviewer(), max_assignments=3) for _ in range(6)]
    env = {"DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "REVIEWQ_DATA_DIR": str(tmp_path)}
    with (tmp_path / "workers.log").open("wb") as log:
        proc = start_dramatiq(
            2, 2, env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        requests = [
            enqueue_generate(str(call.uuid), acting_user=str(manager.uuid)) for _ in range(2)
        ]
        ids = [r.id for r in requests]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            finished = AssignmentRequest.select().where(
                AssignmentRequest.id.in_(ids),
                AssignmentRequest.status.in_([RequestStatus.SUCCEEDED, RequestStatus.FAILED]),
            )
            if finished.count() == 2:
                break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    done = list(AssignmentRequest.select().where(AssignmentRequest.id.in_(ids)))
    assert {r.status for r in done} == {RequestStatus.SUCCEEDED}
    created = sorted(r.result["items_created"] for r in done)
    # 12 proposals x 2 = 24 slots and 6 x 3 = 18 of capacity: the first fills what it can,
    # the second finds nothing left
    assert created == [0, 18]
    per_proposal = Counter(p for (p,) in AssignmentItem.select(AssignmentItem.proposal).tuples())
    assert max(per_proposal.values()) <= 2
    drafts = Counter(
        e for (e,) in AssignmentBatch.select(AssignmentBatch.reviewer_pool_entry).tuples()
    )
    assert max(drafts.values()) == 1
    loads = workloads([e.reviewer_id for e in entries], call_id=call.id)
    assert max(loads.values()) <= 3
    assert ReviewerPoolEntry.select().count() == 6
    assert User.select().count() >= 1
