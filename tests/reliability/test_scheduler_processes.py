"""Real scheduler processes (`python -m scheduler`) against real Redis, PostgreSQL and SMTP:
two schedulers cause every effect once; a SIGKILLed leader's standby takes over within the
lease time; mail that waited while SMTP was down goes out once through the outbox sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from scheduler.leader import fire_key
from store import AssignmentBatch, Notification
from store.clock import utcnow
from store.enums import BatchStatus, NotificationKind, NotificationStatus, ReviewState
from tests.builders import PG_URL, REDIS_URL, CollectingHandler, extend, free_port
from tests.factories import (
    make_call,
    make_call_manager,
    make_deadline_email,
    make_proposal,
    make_review,
    make_reviewer,
    make_sent_batch,
)
from tests.reliability.chaos.services import start_scheduler
from workers.delivery import deliver
from workers.mail import SmtpTransport, parse_smtp_url
from workers.redis_keys import SCHEDULER_FIRE_PREFIX, SCHEDULER_LEADER_KEY
from workers.supervisor import start_dramatiq

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 3.0


def scheduler_env(tmp_path: Path, smtp_url: str, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_DATA_DIR": str(tmp_path),
        "SMTP_URL": smtp_url,
        "REVIEWQ_SCHEDULER_EXPIRY_SECONDS": "1",
        "REVIEWQ_SCHEDULER_REMINDER_SECONDS": "1",
        "REVIEWQ_SCHEDULER_NOTICE_SECONDS": "1",
        "REVIEWQ_SCHEDULER_SWEEP_SECONDS": "1",
        "REVIEWQ_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
        "REVIEWQ_SCHEDULER_RENEW_SECONDS": "1",
        "REVIEWQ_OUTBOX_REDRIVE_AFTER_SECONDS": "1",
    }


class Processes:
    """Background processes a test starts; all stopped at the end."""

    def __init__(self, tmp_path: Path, smtp_url: str, database_url: str = PG_URL) -> None:
        self.tmp_path = tmp_path
        self.env = scheduler_env(tmp_path, smtp_url, database_url)
        self.started: list[subprocess.Popen[bytes]] = []

    def scheduler(self, name: str) -> subprocess.Popen[bytes]:
        proc = start_scheduler(self.env, self.tmp_path / f"{name}.log")
        self.started.append(proc)
        return proc

    def worker(self) -> subprocess.Popen[bytes]:
        with (self.tmp_path / "worker.log").open("wb") as log:
            proc = start_dramatiq(
                1, 2, self.env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
            )
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def processes(tmp_path: Path, smtp_server: tuple[str, CollectingHandler]) -> Iterator[Processes]:
    procs = Processes(tmp_path, smtp_server[0])
    yield procs
    procs.stop_all()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll until `condition` holds; returns the seconds it took, fails after `seconds`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def leader_pid(redis_client: Any) -> int | None:
    owner = redis_client.get(SCHEDULER_LEADER_KEY)
    return int(owner.decode().split(":")[1]) if owner else None


def fire_owners(redis_client: Any) -> set[str]:
    return {
        redis_client.get(k).decode() for k in redis_client.scan_iter(f"{SCHEDULER_FIRE_PREFIX}*")
    }


def sent_count() -> int:
    return Notification.select().where(Notification.status == NotificationStatus.SENT).count()


def test_two_scheduler_processes_cause_every_expiry_reminder_and_notice_once(
    db: Database,
    db_url: str,
    redis_client: Any,
    processes: Processes,
    smtp_server: tuple[str, CollectingHandler],
) -> None:
    processes.env["DATABASE_URL"] = db_url
    now = utcnow()
    call = make_call(send_reminder_before_expiry_days=2)
    make_call_manager(call)
    overdue = [make_sent_batch(call, now - timedelta(minutes=5), items=2) for _ in range(3)]
    due = [make_sent_batch(call, now + timedelta(days=1)) for _ in range(3)]
    not_yet = make_sent_batch(call, now + timedelta(days=10))
    make_review(
        make_proposal(call),
        reviewer=make_reviewer(),
        state=ReviewState.IN_REVIEW,
        deadline=now + timedelta(days=1),
    )
    processes.worker()
    first, second = processes.scheduler("first"), processes.scheduler("second")

    wait_for(lambda: sent_count() == 5, 60, "1 digest, 3 reminders, 1 deadline reminder sent")
    time.sleep(4)  # four more fires of every job on both processes

    assert first.poll() is None and second.poll() is None
    kinds = [n.kind for n in Notification.select()]
    assert sorted(kinds) == sorted(
        [NotificationKind.EXPIRED_NOTICE]  # one digest of the call's 3 expired batches
        + [NotificationKind.REMINDER] * 3
        + [NotificationKind.REVIEW_DEADLINE]
    )
    assert len(smtp_server[1].messages) == 5
    batches = AssignmentBatch.select().where(AssignmentBatch.id.in_([b.id for b in overdue]))
    assert {(b.status, b.manager_notified) for b in batches} == {(BatchStatus.EXPIRED, True)}
    reminded = AssignmentBatch.select().where(AssignmentBatch.id.in_([b.id for b in due]))
    assert {b.reminder_sent for b in reminded} == {True}
    assert AssignmentBatch.get_by_id(not_yet.id).reminder_sent is False
    owners = fire_owners(redis_client)
    assert len(owners) == 1, f"two processes fired jobs: {owners}"
    assert str(leader_pid(redis_client)) in next(iter(owners))

    extend(overdue[0], utcnow() + timedelta(seconds=3))
    wait_for(lambda: sent_count() == 7, 30, "a new reminder and a new digest for the extension")
    time.sleep(2)
    assert len(smtp_server[1].messages) == 7
    assert AssignmentBatch.get_by_id(overdue[0].id).status == BatchStatus.EXPIRED
    kinds = [n.kind for n in Notification.select()]
    assert kinds.count(NotificationKind.REMINDER) == 4
    assert kinds.count(NotificationKind.EXPIRED_NOTICE) == 2


def test_a_killed_leaders_standby_takes_over_within_the_lease_time(
    pg_db: Database, redis_client: Any, processes: Processes
) -> None:
    first, second = processes.scheduler("first"), processes.scheduler("second")
    wait_for(lambda: leader_pid(redis_client) is not None, 30, "a leader")
    leader = leader_pid(redis_client)
    standby = second if leader == first.pid else first
    assert leader in (first.pid, second.pid)

    os.killpg(leader, signal.SIGKILL)
    took = wait_for(lambda: leader_pid(redis_client) == standby.pid, 30, "the standby to lead")

    # The key outlives its owner by at most the lease; a standby polls every tenth of it.
    assert took <= LEASE_SECONDS * 1.1 + 1.0, f"standby took over after {took:.1f} s"
    batch = make_sent_batch(make_call(), utcnow() - timedelta(seconds=1))
    wait_for(
        lambda: AssignmentBatch.get_by_id(batch.id).status == BatchStatus.EXPIRED,
        10,
        "the new leader to expire a batch",
    )
    assert standby.poll() is None


def test_mail_that_waited_while_smtp_was_down_goes_out_once_through_the_sweep(
    pg_db: Database,
    redis_client: Any,
    processes: Processes,
    smtp_server: tuple[str, CollectingHandler],
) -> None:
    notification_id = make_deadline_email("test:smtp-down")
    down = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?timeout=2"))
    with pytest.raises(Exception, match="notification"):
        deliver(notification_id, transport=down)  # SMTP down: back to pending, a retry due
    # Its retry message is lost (as after a broker outage): only the sweep can send it now.
    Notification.update(next_attempt_at=utcnow() - timedelta(minutes=1)).where(
        Notification.id == notification_id
    ).execute()
    assert Notification.get_by_id(notification_id).status == NotificationStatus.PENDING

    processes.worker()
    processes.scheduler("first")
    processes.scheduler("second")
    wait_for(lambda: sent_count() == 1, 30, "the swept notification to be sent")
    time.sleep(3)  # more sweeps on both schedulers

    assert len(smtp_server[1].messages) == 1
    row = Notification.get_by_id(notification_id)
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 2)
    assert smtp_server[1].messages[0]["To"] == "Reviewer <reviewer@example.org>"


def test_fire_keys_name_the_job_and_its_fire_time() -> None:
    from datetime import datetime

    key = fire_key("expire_batches", datetime(2026, 1, 1, 12, 0))

    assert key == f"{SCHEDULER_FIRE_PREFIX}expire_batches:2026-01-01T12:00:00.000"
