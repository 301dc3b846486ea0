"""Mail after a crash (#12, defect 9), with real worker processes, a real scheduler process and
real SMTP (aiosmtpd): a worker SIGKILLed in the middle of delivering leaves rows `sending`
(stale claim) and rows `pending` whose enqueue never happened; once a worker and the scheduler
run again, every e-mail goes out within 60 s, once per dedupe key, except the rows whose SMTP
exchange the kill cut (the documented window)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import Notification, write_transaction
from store.enums import NotificationStatus
from tasks.mail.outbox import AssignedReview, enqueue_deliveries, queue_review_assigned
from tests.builders import PG_URL, REDIS_URL, free_port, stop_process_group
from tests.workers.conftest import StartWorker

pytestmark = pytest.mark.e2e

ROWS = 24
ENQUEUED = 16  # the other rows' enqueue is "lost": only the sweep can send them
SMTP_SECONDS = 0.3
RECOVERY_LIMIT_S = 60.0


class SlowSMTP:
    """Accepts each message after SMTP_SECONDS, recording its Message-ID and arrival time."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(SMTP_SECONDS)
        message = message_from_bytes(envelope.content, policy=default)
        with self.lock:
            self.arrivals.append((str(message["Message-ID"]), time.time()))
        return "250 accepted"


@pytest.fixture
def slow_smtp() -> Iterator[tuple[str, SlowSMTP]]:
    from aiosmtpd.controller import Controller

    handler = SlowSMTP()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", handler
    controller.stop()


@pytest.fixture
def start_scheduler(tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        full = {**os.environ, "DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, **env}
        log = (tmp_path / "scheduler.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "scheduler"],
            env=full,
            start_new_session=True,
            stdout=log,
            stderr=log,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            stop_process_group(proc)


def write_rows() -> list[int]:
    ids = []
    with write_transaction():
        for i in range(ROWS):
            review = AssignedReview(f"rev-{i}", f"Proposal {i}", "normal", None)
            new_id = queue_review_assigned(
                request_id="crash",
                reviewer_id=f"reviewer-{i}",
                recipient=f"reviewer{i}@example.org",
                recipient_name=f"Reviewer {i}",
                reviews=[review],
            )
            assert new_id is not None
            ids.append(new_id)
    return ids


def message_ids_by_key() -> dict[str, str]:
    from workers.mail import message_id_for

    sender = "reviewq <noreply@localhost>"
    return {message_id_for(n.uuid, sender): n.dedupe_key for n in Notification.select()}


def test_every_email_goes_out_within_a_minute_of_recovery_once_per_dedupe_key(
    pg_db: Database,
    redis_client: Any,
    slow_smtp: tuple[str, SlowSMTP],
    start_worker: StartWorker,
    start_scheduler: Any,
) -> None:
    smtp_url, smtp = slow_smtp
    ids = write_rows()
    first = start_worker(processes=1, threads=2, SMTP_URL=smtp_url)
    enqueue_deliveries(ids[:ENQUEUED])
    deadline = time.monotonic() + 60
    sending = Notification.select().where(Notification.status == NotificationStatus.SENDING)
    while time.monotonic() < deadline and not (len(smtp.arrivals) >= 4 and sending.count()):
        time.sleep(0.02)
    # The rows in an SMTP exchange when the kill lands (just before it, or still after it).
    in_flight = {n.dedupe_key for n in sending}
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    in_flight |= {n.dedupe_key for n in sending}
    left = Notification.select().where(Notification.status != NotificationStatus.SENT).count()
    assert left > ENQUEUED // 2, "the kill must land mid-delivery"

    recovered = time.time()
    start_worker(processes=1, threads=2, SMTP_URL=smtp_url)
    start_scheduler()
    limit = time.monotonic() + RECOVERY_LIMIT_S + 15
    while time.monotonic() < limit:
        unsent = Notification.select().where(Notification.status != NotificationStatus.SENT)
        if unsent.count() == 0:
            break
        time.sleep(0.5)

    keys = message_ids_by_key()
    deliveries = Counter(keys[message_id] for message_id, _ in smtp.arrivals)
    late = [
        (keys[message_id], at - recovered)
        for message_id, at in smtp.arrivals
        if at - recovered > RECOVERY_LIMIT_S
    ]
    left_behind = [
        (n.dedupe_key, n.status.value)
        for n in Notification.select().where(Notification.status != NotificationStatus.SENT)
    ]
    assert left_behind == []
    assert set(deliveries) == set(keys.values()), "every e-mail delivered"
    duplicated = {key for key, count in deliveries.items() if count > 1}
    assert duplicated <= in_flight, "only a kill mid-SMTP may send one twice"
    assert late == []
