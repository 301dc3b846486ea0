"""Every message delivered twice: a load runs end to end on real Redis, real workers, a real
scheduler and real SMTP, every message any process enqueued is recorded (a test middleware,
chaos/recorder.py), then each is delivered once more. The final state (every row of the
requests, reviews, batches, items and outbox) and the mail the SMTP server received are the
same as after the first delivery."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import AssignmentBatch, AssignmentItem, AssignmentRequest, Notification, Review
from store.enums import BatchStatus, NotificationStatus, RequestStatus
from tasks.producers import enqueue_assign_reviews
from tests.builders import PG_URL, REDIS_URL, stop_process_group
from tests.reliability.chaos.load import WaveShape, build_wave
from tests.reliability.chaos.recorder import install, recorded, replay
from tests.reliability.chaos.services import ROOT, SmtpSink, start_scheduler
from workers.redis_keys import QUEUES, queue_key
from workers.supervisor import DRAMATIQ_MODULES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SCHEDULER = (
    "import sys; from tests.reliability.chaos.recorder import install; install(); "
    "from scheduler.__main__ import main; sys.exit(main())"
)


@pytest.fixture
def system(
    pg_db: Database, redis_client: Any, tmp_path: Path
) -> Iterator[tuple[SmtpSink, list[subprocess.Popen[bytes]]]]:
    sink = SmtpSink().start()
    env = {
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "SMTP_URL": sink.url,
        "REVIEWQ_DATA_DIR": str(tmp_path),
        "REVIEWQ_SCHEDULER_EXPIRY_SECONDS": "1",
        "REVIEWQ_SCHEDULER_REMINDER_SECONDS": "1",
        "REVIEWQ_SCHEDULER_NOTICE_SECONDS": "1",
        "REVIEWQ_SCHEDULER_LEASE_SECONDS": "3",
        "REVIEWQ_SCHEDULER_RENEW_SECONDS": "1",
    }
    worker = [sys.executable, "-m", "dramatiq", *DRAMATIQ_MODULES]
    worker += ["tests.reliability.chaos.record_all", "--processes", "1", "--threads", "4"]
    with (tmp_path / "worker.log").open("wb") as log:
        started = [
            subprocess.Popen(
                worker,
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            start_scheduler(env, tmp_path / "scheduler.log", ("-c", SCHEDULER)),
        ]
    install()  # this process's producer records too
    yield sink, started
    for proc in started:
        if proc.poll() is None:
            stop_process_group(proc)
    sink.stop()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def queues_idle(client: Any) -> bool:
    in_acks = sum(int(client.scard(k)) for k in client.scan_iter("reviewq:__acks__.*"))
    waiting = sum(
        int(client.llen(queue_key(q))) + int(client.zcard(queue_key(q) + ".DQ")) for q in QUEUES
    )
    return in_acks == 0 and waiting == 0


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: list(model.select().order_by(model.id).dicts())
        for model in (AssignmentRequest, Review, AssignmentBatch, AssignmentItem, Notification)
    }


def test_every_message_delivered_twice_leaves_the_state_of_one_delivery(
    system: tuple[SmtpSink, list[subprocess.Popen[bytes]]], redis_client: Any
) -> None:
    sink, (worker, scheduler) = system
    # the batches expire late enough for a reminder first, even while the scheduler boots
    shape = WaveShape(
        reviewers=4, cap=2, requests=6, reviews_per_request=2, expire_after=timedelta(seconds=10)
    )
    ids = []
    for number in range(2):
        for key, body in build_wave(number, shape):
            ids.append(enqueue_assign_reviews(body, idempotency_key=key).id)

    def settled() -> bool:
        requests = AssignmentRequest.select().where(AssignmentRequest.id.in_(ids))
        batches = AssignmentBatch.select()
        outbox = Notification.select().where(Notification.status != NotificationStatus.SENT)
        return (
            all(r.status == RequestStatus.SUCCEEDED for r in requests)
            and all(b.status == BatchStatus.EXPIRED and b.manager_notified for b in batches)
            and not outbox.exists()
            and queues_idle(redis_client)
        )

    wait_for(settled, 90, "the load, the expiries and their mail")
    stop_process_group(scheduler)  # from here on only the replayed messages act
    wait_for(lambda: queues_idle(redis_client), 30, "the queues to drain")
    before, mail_before = snapshot(), Counter(d.message_id for d in sink.log.snapshot())
    messages = recorded(redis_client)
    actors = Counter(m.actor_name for m in messages)
    # the outbox rows the delivery messages carry: one each, or a list (one change's e-mails)
    carried = [m.args[0] for m in messages if m.actor_name == "deliver_notification"] + [
        n for m in messages if m.actor_name == "deliver_notifications" for n in m.args[0]
    ]

    replayed = replay(redis_client)
    time.sleep(1.0)
    wait_for(lambda: queues_idle(redis_client), 60, "the replayed messages to run")
    time.sleep(2.0)  # mail that a replay might send twice has time to arrive

    assert worker.poll() is None
    # every kind of message was there to replay
    assert actors["assign_reviews"] == len(ids)
    assert sorted(carried) == [row["id"] for row in before["Notification"]]
    assert actors["deliver_notifications"] >= 1  # a change with several e-mails
    assert actors["notify_expired_batches"] >= 1 and actors["send_batch_reminders"] >= 1
    assert replayed == sum(actors.values())
    after = snapshot()
    for table, rows in before.items():
        assert after[table] == rows, f"{table} changed when every message ran twice"
    assert Counter(d.message_id for d in sink.log.snapshot()) == mail_before
    assert max(mail_before.values()) == 1
