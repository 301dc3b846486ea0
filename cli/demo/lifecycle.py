"""The demo's assignment-batch lifecycle, on the sample's main call.

Generate (queued, run by a worker), send every draft, accept and decline (the decline is
reassigned automatically and the new batch sent at once), then reminders and expiry on a
shortened clock through real `reviewq scheduler run-once` processes, and the extension of an
expired batch. Each step is checked.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cli.demo.scenarios import Check
from store import AssignmentBatch, AssignmentItem, Call, Notification, ReviewerPoolEntry, User
from store.enums import BatchStatus, ItemStatus, NotificationKind, NotificationStatus, RequestStatus
from store.workload import workloads
from tasks.batches.actions import extend_deadline
from tasks.batches.send import send_all
from tasks.eligibility import blocking_conflicts
from tasks.items.answers import accept_item, decline_item
from tasks.producers import enqueue_generate
from tasks.requests.lifecycle import wait_for_request
from tasks.results import deliver

#: The sample's main call reassigns declined and expired items automatically; the other does not.
AUTO_CALL, PLAIN_CALL = "call_1", "call_2"


def run_lifecycle(data_dir: Path, timeout: float) -> list[Check]:
    """Every step of the lifecycle on the sample's two calls, with its checks."""
    manager = User.get(User.username == "manager")
    checks: list[Check] = []
    for external_id in (AUTO_CALL, PLAIN_CALL):
        call = Call.get(Call.external_id == external_id)
        checks += _generate(call, manager, timeout)
        checks += _send(call, manager)
    auto = Call.get(Call.external_id == AUTO_CALL)
    checks += _answer(auto, _answerable_batch(auto))
    plain = Call.get(Call.external_id == PLAIN_CALL)
    checks += _clock(plain, manager, _answerable_batch(plain))
    checks.append(_all_mail_delivered(data_dir))
    return checks


def _all_mail_delivered(data_dir: Path) -> Check:
    """Every outbox row sent, each exactly once, as one .eml file in the mail drop."""
    waiting = Notification.select().where(Notification.status != NotificationStatus.SENT)
    _wait(lambda: waiting.count() == 0)
    rows = Notification.select().count()
    files = len(list((data_dir / "outbox").glob("*.eml")))
    return Check(
        "all mail delivered once (invitations, reminders, assignments)",
        waiting.count() == 0 and files == rows,
        f"{files} .eml files for {rows} outbox rows",
    )


def _generate(call: Call, manager: User, timeout: float) -> list[Check]:
    entries = list(ReviewerPoolEntry.select().where(ReviewerPoolEntry.call == call.id))
    before = workloads([e.reviewer_id for e in entries], call_id=call.id)
    request = enqueue_generate(
        call.external_id, acting_user=str(manager.uuid), idempotency_key=f"demo-{call.uuid}"
    )
    done = wait_for_request(request.uuid, timeout=timeout)
    body: dict[str, Any] = done.result or {}
    per_proposal = Counter(
        p
        for (p,) in AssignmentItem.select(AssignmentItem.proposal)
        .join(AssignmentBatch)
        .where(AssignmentBatch.call == call.id, AssignmentItem.status == ItemStatus.PENDING)
        .tuples()
    )
    after = workloads([e.reviewer_id for e in entries], call_id=call.id)
    # Bulk assignment (seeds/004) caps by maxPerReviewer, not by the call's pool limits, so a
    # reviewer may start above max_assignments: generate must then give them nothing.
    over = [
        e.reviewer_id
        for e in entries
        if after[e.reviewer_id] - before[e.reviewer_id]
        > max(0, e.max_assignments - before[e.reviewer_id])
    ]
    return [
        Check(
            f"generate {call.external_id} (queued): draft batches",
            done.status == RequestStatus.SUCCEEDED and body.get("items_created", 0) > 0,
            f"{body.get('items_created')} items in {body.get('batches_created')} drafts",
        ),
        Check(
            f"generate {call.external_id}: no proposal above reviewers_per_proposal",
            max(per_proposal.values(), default=0) <= call.reviewers_per_proposal,
            f"max {max(per_proposal.values(), default=0)} per proposal",
        ),
        Check(
            f"generate {call.external_id}: nobody given work beyond max_assignments",
            not over,
            str(over[:3]),
        ),
        _no_conflicted_pending(call),
    ]


def _no_conflicted_pending(call: Call) -> Check:
    pairs = set(
        AssignmentItem.select(ReviewerPoolEntry.reviewer, AssignmentItem.proposal)
        .join(AssignmentBatch)
        .join(ReviewerPoolEntry)
        .where(AssignmentBatch.call == call.id, AssignmentItem.status == ItemStatus.PENDING)
        .tuples()
    )
    found = blocking_conflicts({r for r, _ in pairs}, {p for _, p in pairs}) & pairs
    return Check("no pending item with a blocking conflict of interest", not found, f"{len(found)}")


def _send(call: Call, manager: User) -> list[Check]:
    invitations = Notification.select().where(Notification.kind == NotificationKind.INVITATION)
    before = invitations.count()
    result = send_all(manager, str(call.uuid))
    deliver(result)
    left = (
        AssignmentItem.select()
        .join(AssignmentBatch)
        .where(
            AssignmentBatch.call == call.id,
            AssignmentBatch.status == BatchStatus.DRAFT,
            AssignmentItem.status == ItemStatus.PENDING,
        )
        .count()
    )
    sent = result.sent
    return [
        Check(
            "send-all: no draft with a pending item left", sent > 0 and left == 0, f"{sent} sent"
        ),
        Check(
            f"send-all {call.external_id}: one invitation per batch",
            invitations.count() - before == sent,
            f"{invitations.count() - before} invitations",
        ),
    ]


def _answerable_batch(call: Call) -> AssignmentBatch:
    """A sent batch with at least two pending items whose reviewer has a user account."""
    for batch in (
        AssignmentBatch.select()
        .where(AssignmentBatch.call == call.id, AssignmentBatch.status == BatchStatus.SENT)
        .order_by(AssignmentBatch.id)
    ):
        pending = batch.items.where(AssignmentItem.status == ItemStatus.PENDING).count()
        if pending >= 2 and batch.reviewer_pool_entry.reviewer.user_id is not None:
            return batch
    raise RuntimeError("the sample has no sent batch with two pending items")


def _answer(call: Call, batch: AssignmentBatch) -> list[Check]:
    reviewer_user = batch.reviewer_pool_entry.reviewer.user
    first, second = list(batch.items.where(AssignmentItem.status == ItemStatus.PENDING))[:2]
    accepted = accept_item(reviewer_user, str(first.uuid))
    declined = decline_item(reviewer_user, str(second.uuid), reason="Outside my expertise")
    deliver(declined)
    successor = AssignmentItem.get_or_none(AssignmentItem.reassigned_from == second.id)
    new_batch = successor.batch if successor else None
    return [
        Check(
            "accept: the reviewer's review is created",
            accepted.review.uuid is not None,
            str(accepted.review.uuid),
        ),
        Check(
            "decline: reassigned automatically to another reviewer, in a batch sent at once",
            successor is not None
            and new_batch is not None
            and new_batch.status == BatchStatus.SENT
            and new_batch.reviewer_pool_entry.reviewer_id != batch.reviewer_pool_entry.reviewer_id,
            f"new item {successor.uuid if successor else '-'}",
        ),
    ]


def _scheduler(job: str, now: datetime) -> None:
    """One scheduler job in its own process, as if the clock read `now`."""
    cmd = [sys.executable, "-m", "cli", "scheduler", "run-once", job, "--now", now.isoformat()]
    subprocess.run(cmd, check=True, capture_output=True)


def _clock(call: Call, manager: User, batch: AssignmentBatch) -> list[Check]:
    batch = AssignmentBatch.get_by_id(batch.id)
    # the reminder job covers every call: every sent batch is inside the window
    expected = AssignmentBatch.select().where(AssignmentBatch.status == BatchStatus.SENT).count()
    reminders = Notification.select().where(Notification.kind == NotificationKind.REMINDER)
    in_window = batch.expires_at - timedelta(days=1)
    _scheduler("send_reminders", in_window)
    _scheduler("send_reminders", in_window + timedelta(hours=1))
    # the reminders are written by a worker: wait for them
    _wait(lambda: reminders.count() >= expected)
    after = batch.expires_at + timedelta(minutes=1)
    _scheduler("expire_batches", after)
    expired = AssignmentBatch.get_by_id(batch.id)
    extend_deadline(manager, str(batch.uuid), after + timedelta(days=7), now=after)
    extended = AssignmentBatch.get_by_id(batch.id)
    pending = extended.items.where(AssignmentItem.status == ItemStatus.PENDING).count()
    return [
        Check(
            "reminders: one per sent batch, inside the window, once",
            reminders.count() == expected,
            f"{reminders.count()} reminders for {expected} batches",
        ),
        Check(
            "expiry on a shortened clock: the batch expired",
            expired.status == BatchStatus.EXPIRED,
            expired.status.value,
        ),
        Check(
            "extend an expired batch: sent again, its expired items pending",
            extended.status == BatchStatus.SENT and pending > 0,
            f"{pending} pending",
        ),
    ]


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
