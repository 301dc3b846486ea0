"""The chaos counting can fail: runs broken on purpose are reported as non-zero.

A test double disables the row locks of the queue path (and widens the race with a pause
between reading the workloads and writing), then the requests of one wave run concurrently:
the count must find reviews assigned twice and reviewers over capacity. A mail delivered twice
through real SMTP, a mail that arrives late, one never sent, and a request recorded but never
enqueued are each counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from peewee import Database, DatabaseError

from store import AssignmentRequest, Notification, database
from store.clock import utcnow
from store.enums import RequestKind
from store.workload import workloads
from tasks.messages import message_for
from tasks.requests.handlers import HANDLERS
from tasks.requests.lifecycle import process_request, submit_request
from tests.builders import run_at_once
from tests.factories import make_deadline_email
from tests.reliability.chaos.evidence import Fault, count, install_audit, up_after
from tests.reliability.chaos.load import WaveShape, build_wave
from tests.reliability.chaos.services import Delivery, SmtpSink
from workers.mail import SmtpTransport, build_email, parse_smtp_url

SHAPE = WaveShape(reviewers=4, cap=2, requests=6, reviews_per_request=2, pool_size=4, batches=0)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


def submitted(requests: list[tuple[str, dict[str, Any]]]) -> list[AssignmentRequest]:
    kind = RequestKind.ASSIGN_REVIEWS
    return [submit_request(kind, body, idempotency_key=key)[0] for key, body in requests]


def run(request: AssignmentRequest) -> Any:
    """Run one request's message, retried on a database error as dramatiq would."""
    kind = RequestKind.ASSIGN_REVIEWS
    for _ in range(5):
        try:
            return process_request(kind, message_for(request), HANDLERS[kind])
        except DatabaseError:  # a deadlock between contenders: the retry runs it
            database.close()
    return process_request(kind, message_for(request), HANDLERS[kind])


def test_a_wave_run_with_its_locks_kept_counts_clean(pg_db: Database) -> None:
    install_audit()
    requests = submitted(build_wave(0, SHAPE))
    run_at_once(*[lambda r=r: run(r) for r in requests])

    tally = count([r.id for r in requests], [], [], until=utcnow() - timedelta(days=1))

    assert (tally.lost, tally.failed, tally.duplicated, tally.over_capacity) == (0, 0, 0, 0)
    assert tally.reviews_assigned == SHAPE.slots  # 12 reviews asked for 8 slots: all filled
    assert tally.reviewers_at_cap == SHAPE.reviewers
    assert tally.capacity_refusals == SHAPE.asked - SHAPE.slots


def test_a_wave_run_without_locks_is_counted_twice_assigned_and_over_capacity(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.bulk import assign
    from tasks.requests import lifecycle

    install_audit()

    def slow_workloads(*args: Any, **kwargs: Any) -> Any:
        found = workloads(*args, **kwargs)
        time.sleep(0.3)  # every contender reads before any writes
        return found

    monkeypatch.setattr(assign, "locked", lambda query, **_: query)
    monkeypatch.setattr(lifecycle, "locked", lambda query, **_: query)
    monkeypatch.setattr(assign, "workloads", slow_workloads)
    requests = submitted(build_wave(0, SHAPE))
    # each request delivered twice at once, as a redelivery racing the first run would
    run_at_once(*[lambda r=r: run(r) for r in requests + requests])

    tally = count([r.id for r in requests], [], [], until=utcnow() - timedelta(days=1))

    assert tally.duplicated > 0
    assert tally.over_capacity > 0
    assert tally.problems().keys() >= {"duplicated", "over_capacity"}


def test_a_request_never_enqueued_is_lost(pg_db: Database) -> None:
    install_audit()
    (request,) = submitted(build_wave(0, SHAPE)[:1])

    tally = count([request.id], [], [], until=utcnow())

    assert tally.lost == 1
    assert tally.problems() == {"lost": 1}


def queue_one(key: str) -> Notification:
    found: Notification = Notification.get_by_id(make_deadline_email(key))
    return found


def test_mail_sent_twice_through_smtp_is_a_duplicate_and_mail_never_sent_stays_left(
    pg_db: Database, sink: SmtpSink
) -> None:
    install_audit()
    twice, never = queue_one("chaos:twice"), queue_one("chaos:never")
    transport = SmtpTransport(parse_smtp_url(sink.url))
    for _ in range(2):
        transport.send(build_email(twice, sender="reviewq <noreply@localhost>"))
    Notification.update(status="sent").where(Notification.id == twice.id).execute()
    deadline = time.monotonic() + 10
    while len(sink.log.snapshot()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    tally = count([], sink.log.snapshot(), [], until=utcnow() - timedelta(days=1))

    assert tally.mail_duplicated == 1
    assert tally.mail_duplicated_in_window == 0
    assert tally.outbox_left == 1  # `never` is still pending
    assert never.dedupe_key in tally.details["outbox_left"][0]
    # a fault just after the first copy was accepted: the documented window, not counted
    first = min(d.at for d in sink.log.snapshot())
    windowed = count(
        [], sink.log.snapshot(), [Fault("kill", first + 0.5, first + 1)], until=utcnow()
    )
    assert (windowed.mail_duplicated, windowed.mail_duplicated_in_window) == (0, 1)
    # a fault that cannot come between an accept and its mark excuses nothing
    leader = Fault("leader", first + 0.5, first + 1, interrupts_delivery=False)
    assert count([], sink.log.snapshot(), [leader], until=utcnow()).mail_duplicated == 1


def test_mail_later_than_a_minute_after_recovery_is_late(pg_db: Database) -> None:
    install_audit()
    row = queue_one("chaos:late")
    created = _epoch(row.created)
    down = Fault("postgres", created - 1, created + 30)
    on_time = Delivery(f"<notification.{row.uuid}@localhost>", "review_deadline", created + 85)
    late = Delivery(f"<notification.{row.uuid}@localhost>", "review_deadline", created + 95)

    assert count([], [on_time], [down], until=utcnow()).mail_late == 0  # 55 s after recovery
    tally = count([], [late], [down], until=utcnow())
    assert tally.mail_late == 1
    assert tally.mail_worst_lateness_s == pytest.approx(65, abs=0.5)
    assert up_after(created, [down]) == created + 30


def _epoch(naive_utc: Any) -> float:
    from datetime import UTC

    return float(naive_utc.replace(tzinfo=UTC).timestamp())
