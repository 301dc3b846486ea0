"""The delivery actor on SQLite and PostgreSQL, against a real SMTP server and the `.eml` drop."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from aiosmtpd.controller import Controller
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from peewee import Database

from config import get_settings
from store.clock import utcnow
from store.enums import NotificationStatus
from store.outbox import Notification
from tasks.mail.outbox import (
    AssignedReview,
    enqueue_deliveries,
    queue_review_assigned,
    redrivable_notification_ids,
)
from tests.builders import CollectingHandler, free_port
from workers import delivery
from workers.delivery import (
    MAX_ATTEMPTS,
    STALE_CLAIM,
    DeliveryOutcome,
    InvalidDeliveryMessageError,
    NotificationFailedError,
    deliver,
    deliver_notification,
    deliver_notifications,
)
from workers.mail import FileTransport, PermanentDeliveryError, transport_from_settings
from workers.middleware.observe import mail_deliveries
from workers.redis_keys import MAIL_QUEUE

SECRET_TITLE = "Confidential proposal title"


class SmtpServer:
    """A real SMTP server on a fixed free port that a test can stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = CollectingHandler()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(autouse=True)
def mail_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No SMTP_URL (the `.eml` drop under tmp_path) unless a test sets one."""
    monkeypatch.setenv("REVIEWQ_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setenv("MAIL_FROM", "reviewq <noreply@reviews.example.org>")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A running SMTP server that SMTP_URL points at."""
    server = SmtpServer()
    server.start()
    monkeypatch.setenv("SMTP_URL", server.url)
    get_settings.cache_clear()
    yield server
    server.stop()


def queue_one(db: Database, request_id: str = "req-1", recipient: str = "ada@example.org") -> int:
    with db.atomic():
        new_id = queue_review_assigned(
            request_id=request_id,
            reviewer_id=recipient,
            recipient=recipient,
            recipient_name="Ada Lovelace",
            reviews=[AssignedReview("rev_1", SECRET_TITLE, "high", None)],
        )
    assert new_id is not None
    return new_id


def row(notification_id: int) -> Notification:
    return Notification.get_by_id(notification_id)


def test_a_pending_notification_goes_out_over_smtp_and_is_marked_sent(
    db: Database, smtp: SmtpServer
) -> None:
    notification_id = queue_one(db)
    deliver_notification.fn(notification_id)
    [received] = smtp.handler.messages
    assert received["To"].addresses[0].addr_spec == "ada@example.org"
    assert received["Subject"] == "1 review assigned to you"
    notification = row(notification_id)
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert str(notification.uuid) in received["Message-ID"]


def test_running_the_actor_twice_sends_once(db: Database, smtp: SmtpServer) -> None:
    notification_id = queue_one(db)
    deliver_notification.fn(notification_id)
    assert deliver(notification_id) == DeliveryOutcome.NOT_CLAIMED
    deliver_notification.fn(notification_id)
    assert len(smtp.handler.messages) == 1
    assert row(notification_id).attempts == 1


def test_without_smtp_url_the_actor_writes_one_eml_file_to_the_data_dir(
    db: Database, tmp_path: Path
) -> None:
    notification_id = queue_one(db)
    deliver_notification.fn(notification_id)
    deliver_notification.fn(notification_id)
    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert b"1 review assigned to you" in eml.read_bytes()
    assert row(notification_id).status == NotificationStatus.SENT


def test_smtp_down_puts_the_row_back_to_pending_and_retries_then_it_goes_out_once_when_up(
    db: Database, smtp: SmtpServer
) -> None:
    notification_id = queue_one(db)
    smtp.stop()
    with pytest.raises(dramatiq.Retry) as caught:
        deliver_notification.fn(notification_id)
    failed = row(notification_id)
    assert failed.status == NotificationStatus.PENDING
    assert "ConnectionRefusedError" in failed.last_error
    assert failed.next_attempt_at is not None and failed.next_attempt_at > utcnow()
    assert failed.claimed_at is None
    assert caught.value.delay == delivery.retry_delay(1) // timedelta(milliseconds=1)

    smtp.start()
    deliver_notification.fn(notification_id)
    deliver_notification.fn(notification_id)
    assert len(smtp.handler.messages) == 1
    sent = row(notification_id)
    assert (sent.status, sent.attempts, sent.last_error) == (NotificationStatus.SENT, 2, "")


def test_a_row_stuck_in_sending_past_the_threshold_is_reclaimed_and_sent(
    db: Database, smtp: SmtpServer
) -> None:
    notification_id = queue_one(db)
    stuck_since = utcnow() - STALE_CLAIM - timedelta(seconds=1)
    Notification.update(
        status=NotificationStatus.SENDING, attempts=1, claimed_at=stuck_since
    ).where(Notification.id == notification_id).execute()
    deliver_notification.fn(notification_id)
    assert len(smtp.handler.messages) == 1
    assert (row(notification_id).status, row(notification_id).attempts) == (
        NotificationStatus.SENT,
        2,
    )


def test_a_row_in_sending_within_the_threshold_is_left_to_its_worker(
    db: Database, smtp: SmtpServer
) -> None:
    notification_id = queue_one(db)
    Notification.update(
        status=NotificationStatus.SENDING, attempts=1, claimed_at=utcnow() - STALE_CLAIM / 2
    ).where(Notification.id == notification_id).execute()
    assert deliver(notification_id) == DeliveryOutcome.NOT_CLAIMED
    assert smtp.handler.messages == []
    assert row(notification_id).status == NotificationStatus.SENDING


def test_the_last_allowed_attempt_failing_marks_the_row_failed_without_retry(
    db: Database, smtp: SmtpServer
) -> None:
    notification_id = queue_one(db)
    Notification.update(attempts=MAX_ATTEMPTS - 1).where(
        Notification.id == notification_id
    ).execute()
    smtp.stop()
    with pytest.raises(NotificationFailedError):
        deliver_notification.fn(notification_id)
    failed = row(notification_id)
    assert (failed.status, failed.attempts) == (NotificationStatus.FAILED, MAX_ATTEMPTS)
    assert failed.last_error
    assert NotificationFailedError in deliver_notification.options["throws"]


class RefusingTransport:
    def send(self, message: object) -> None:
        raise PermanentDeliveryError("recipient refused: [550]")


def test_a_recipient_refused_for_good_fails_at_once(db: Database) -> None:
    notification_id = queue_one(db)
    with pytest.raises(NotificationFailedError):
        deliver(notification_id, RefusingTransport())
    assert (row(notification_id).status, row(notification_id).attempts) == (
        NotificationStatus.FAILED,
        1,
    )


@pytest.mark.parametrize("bad", ["12", None, True, {"id": 1}])
def test_a_message_without_an_integer_id_is_refused_without_retry(db: Database, bad: Any) -> None:
    with pytest.raises(InvalidDeliveryMessageError, match="notification_id"):
        deliver_notification.fn(bad)
    assert InvalidDeliveryMessageError in deliver_notification.options["throws"]


def test_the_sweep_finds_rows_left_pending_or_stuck_and_nothing_else(db: Database) -> None:
    now = utcnow()
    ids = {name: queue_one(db, request_id=name) for name in ["fresh", "old", "due", "later"]}
    ids |= {name: queue_one(db, request_id=name) for name in ["stuck", "busy", "sent", "failed"]}

    def set_row(name: str, **values: object) -> None:
        Notification.update(**values).where(Notification.id == ids[name]).execute()

    an_hour_ago = now - timedelta(hours=1)
    set_row("old", created=an_hour_ago)
    set_row("due", created=an_hour_ago, next_attempt_at=now - timedelta(minutes=5))
    set_row("later", created=an_hour_ago, next_attempt_at=now + timedelta(minutes=5))
    set_row("stuck", status=NotificationStatus.SENDING, claimed_at=now - 2 * STALE_CLAIM)
    set_row("busy", status=NotificationStatus.SENDING, claimed_at=now - STALE_CLAIM / 2)
    set_row("sent", created=an_hour_ago, status=NotificationStatus.SENT)
    set_row("failed", created=an_hour_ago, status=NotificationStatus.FAILED)

    found = redrivable_notification_ids(now, older_than=timedelta(minutes=2))
    assert found == sorted([ids["old"], ids["due"], ids["stuck"]])


def test_logs_of_a_failed_then_successful_delivery_hold_no_body_subject_or_link(
    db: Database, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Our loggers at DEBUG. peewee's own DEBUG logger prints SQL parameters, bodies included:
    # production logging must keep it at INFO or above.
    for name in ("workers", "tasks", "dramatiq"):
        caplog.set_level(logging.DEBUG, logger=name)
    notification_id = queue_one(db)
    smtp.stop()
    with pytest.raises(dramatiq.Retry):
        deliver_notification.fn(notification_id)
    smtp.start()
    deliver_notification.fn(notification_id)
    deliver_notification.fn(notification_id)
    assert f"notification {notification_id}" in caplog.text
    for secret in (SECRET_TITLE, "review assigned to you", "/reviews/rev_1", "Ada Lovelace"):
        assert secret not in caplog.text


@pytest.fixture
def worker(stub_broker: StubBroker) -> Iterator[StubBroker]:
    """The stub broker, with a worker consuming it."""
    running = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=2)
    running.start()
    yield stub_broker
    running.stop()


def wait_for(predicate: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_notification_enqueued_after_commit_is_delivered_once_by_a_worker_even_if_sent_twice(
    db: Database, smtp: SmtpServer, worker: StubBroker
) -> None:
    notification_id = queue_one(db)
    enqueue_deliveries([notification_id, notification_id])  # a replayed message
    worker.join(MAIL_QUEUE, timeout=20_000)
    assert len(smtp.handler.messages) == 1
    assert row(notification_id).status == NotificationStatus.SENT


def test_with_smtp_down_a_worker_retries_with_backoff_and_delivers_once_when_it_is_up(
    db: Database, smtp: SmtpServer, worker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "MIN_RETRY_DELAY", timedelta(milliseconds=300))
    notification_id = queue_one(db)
    smtp.stop()
    enqueue_deliveries([notification_id])
    # The first try failed and put the row back to pending, waiting for its retry.
    wait_for(lambda: row(notification_id).last_error != "")
    smtp.start()
    worker.join(MAIL_QUEUE, timeout=20_000)
    assert len(smtp.handler.messages) == 1
    assert row(notification_id).status == NotificationStatus.SENT
    assert row(notification_id).attempts >= 2


def test_the_drop_transport_can_be_passed_explicitly(db: Database, tmp_path: Path) -> None:
    notification_id = queue_one(db)
    assert deliver(notification_id, FileTransport(tmp_path / "drop")) == DeliveryOutcome.SENT
    assert len(list((tmp_path / "drop").glob("*.eml"))) == 1


def test_retry_delays_double_from_ten_seconds_up_to_an_hour() -> None:
    delays = [delivery.retry_delay(n) for n in (1, 2, 3, 12, MAX_ATTEMPTS)]
    assert delays[:3] == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert delays[3:] == [timedelta(hours=1)] * 2


# --- several rows in one message ----------------------------------------------------------------


class DeferringHandler(CollectingHandler):
    """Refuses the recipients in `codes` with their SMTP code (4xx: try later; 5xx: for good)."""

    def __init__(self, codes: dict[str, int]) -> None:
        super().__init__()
        self.codes = codes

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.codes:
            return f"{self.codes[address]} not now"
        envelope.rcpt_tos.append(address)
        return "250 OK"


RECIPIENTS = ("ada@example.org", "bob@example.org", "cy@example.org")


def queue_three(db: Database) -> list[int]:
    return [queue_one(db, f"req-{n}", recipient) for n, recipient in enumerate(RECIPIENTS)]


def delivered_to(server: SmtpServer) -> list[str]:
    return sorted(
        str(message["To"]).split("<")[-1].rstrip(">") for message in server.handler.messages
    )


def queued(broker: StubBroker, queue_name: str) -> list[Message[Any]]:
    queue = broker.queues[queue_name]
    return [Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]


def test_one_batch_message_delivers_each_of_its_rows_once_even_when_run_twice(
    db: Database, smtp: SmtpServer
) -> None:
    ids = queue_three(db)
    deliver_notifications.fn(ids)
    deliver_notifications.fn(ids)
    assert delivered_to(smtp) == sorted(RECIPIENTS)
    assert {(row(i).status, row(i).attempts) for i in ids} == {(NotificationStatus.SENT, 1)}


@pytest.mark.parametrize(("code", "status"), [(451, "pending"), (550, "failed")])
def test_a_refused_recipient_in_a_batch_does_not_hold_back_the_others(
    db: Database, smtp: SmtpServer, stub_broker: StubBroker, code: int, status: str
) -> None:
    smtp.handler = DeferringHandler({"bob@example.org": code})
    smtp.stop()
    smtp.start()
    ada, bob, cy = queue_three(db)
    outcomes = ("sent", "retried", "failed")
    before = [mail_deliveries().labels(o)._value.get() for o in outcomes]
    deliver_notifications.fn([ada, bob, cy])
    counted = [
        mail_deliveries().labels(o)._value.get() - b for o, b in zip(outcomes, before, strict=True)
    ]
    assert counted == ([2, 1, 0] if code == 451 else [2, 0, 1])  # each row, by its outcome
    assert delivered_to(smtp) == ["ada@example.org", "cy@example.org"]
    assert row(bob).status == status and str(code) in row(bob).last_error
    retries = queued(stub_broker, f"{MAIL_QUEUE}.DQ")  # dramatiq's delay queue
    if code == 451:  # the deferred row alone, after its own retry delay
        assert [(m.actor_name, m.args) for m in retries] == [("deliver_notification", (bob,))]
        assert retries[0].options["eta"] >= time.time() * 1000 + 9_000
        smtp.handler.codes.clear()
        deliver_notification.fn(bob)
        assert row(bob).status == NotificationStatus.SENT
        assert delivered_to(smtp) == sorted(RECIPIENTS)  # bob's too, once
    else:  # refused for good: nothing to retry
        assert retries == []
        assert row(bob).attempts == 1


def test_a_batch_past_its_time_hands_the_rest_to_a_new_message(
    db: Database, smtp: SmtpServer, stub_broker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "BATCH_SECONDS", -1.0)
    ada, bob, cy = queue_three(db)
    deliver_notifications.fn([ada, bob, cy])
    assert delivered_to(smtp) == ["ada@example.org"]  # the first row always goes
    rest = queued(stub_broker, MAIL_QUEUE)
    assert [(m.actor_name, m.args) for m in rest] == [("deliver_notifications", ([bob, cy],))]
    # claimed with the batch, given back unused: pending, as if never claimed
    assert {(row(i).status, row(i).attempts, row(i).claimed_at) for i in (bob, cy)} == {
        (NotificationStatus.PENDING, 0, None)
    }
    monkeypatch.setattr(delivery, "BATCH_SECONDS", 10.0)
    deliver_notifications.fn(*rest[0].args)
    assert delivered_to(smtp) == sorted(RECIPIENTS)
    assert {(row(i).status, row(i).attempts) for i in (bob, cy)} == {(NotificationStatus.SENT, 1)}


def test_a_batch_claims_its_rows_in_one_statement(
    db: Database, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting(name: str) -> Callable[..., Any]:
        query = getattr(delivery, name)

        def tuples(**values: Any) -> Any:
            calls.append(name)
            return type(query).tuples(query, **values)

        return tuples

    for name in ("_CLAIM", "_CLAIM_ALL"):
        monkeypatch.setattr(getattr(delivery, name), "tuples", counting(name))
    ids = queue_three(db)
    deliver_notifications.fn(ids)
    assert calls == ["_CLAIM_ALL"]
    assert delivered_to(smtp) == sorted(RECIPIENTS)


class Crash(BaseException):
    """The process dies (what no `except Exception` catches)."""


def test_a_crash_mid_batch_leaves_the_unsent_rows_claimed_until_stale_then_each_goes_once(
    db: Database, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob, cy = queue_three(db)
    real = transport_from_settings
    sent: list[int] = []

    class Dying:
        def __init__(self, settings: Any) -> None:
            self.transport = real(settings)

        def send(self, message: Any) -> None:
            if sent:
                raise Crash()
            sent.append(1)
            self.transport.send(message)

    monkeypatch.setattr(delivery, "transport_from_settings", Dying)
    with pytest.raises(Crash):
        deliver_notifications.fn([ada, bob, cy])
    assert row(ada).status == NotificationStatus.SENT
    assert {(row(i).status, row(i).attempts) for i in (bob, cy)} == {
        (NotificationStatus.SENDING, 1)
    }
    monkeypatch.setattr(delivery, "transport_from_settings", real)
    deliver_notifications.fn([ada, bob, cy])  # the redelivered message: the claims still hold
    assert delivered_to(smtp) == ["ada@example.org"]
    stale = utcnow() - delivery.stale_claim() - timedelta(seconds=1)
    Notification.update(claimed_at=stale).where(Notification.id.in_([bob, cy])).execute()
    deliver_notifications.fn([ada, bob, cy])
    assert delivered_to(smtp) == sorted(RECIPIENTS)  # each once
    assert {(row(i).status, row(i).attempts) for i in (bob, cy)} == {(NotificationStatus.SENT, 2)}


@pytest.mark.parametrize("bad", ["12", None, 7, [1, "2"], [True]])
def test_a_batch_message_without_a_list_of_integer_ids_is_refused_without_retry(
    db: Database, bad: Any
) -> None:
    with pytest.raises(InvalidDeliveryMessageError, match="notification_id"):
        deliver_notifications.fn(bad)
    assert InvalidDeliveryMessageError in deliver_notifications.options["throws"]


def test_a_worker_delivers_a_batch_enqueued_after_commit_once_each(
    db: Database, smtp: SmtpServer, worker: StubBroker
) -> None:
    ids = queue_three(db)
    enqueue_deliveries(ids)
    enqueue_deliveries(ids)  # a replayed message
    worker.join(MAIL_QUEUE, timeout=20_000)
    assert delivered_to(smtp) == sorted(RECIPIENTS)
    assert {row(i).status for i in ids} == {NotificationStatus.SENT}
