"""The chaos suite, short: the engine of `bench/chaos.py` (tests/reliability/chaos/) on private
PostgreSQL, Redis and SMTP, worker nodes through the supervisor and two schedulers, under a
sustained load whose caps bind. Each run counts from independent evidence (evidence.py) and
must find nothing lost, nothing twice, nobody over capacity and no mail late."""

from __future__ import annotations

import pytest

from tests.reliability.chaos.engine import (
    LEADER_KILL,
    POSTGRES_CRASH,
    REDIS_DURABLE,
    REDIS_VOLATILE,
    WORKER_KILL,
    Plan,
    run_plan,
)
from tests.reliability.chaos.report import Report
from tests.reliability.chaos.services import postgres_available

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(420),
    pytest.mark.skipif(not postgres_available(), reason="needs PostgreSQL's server binaries"),
]


def assert_clean(report: Report) -> None:
    print(report.table())  # shown with -s, and in the failure's captured output
    assert report.problems() == {}, f"{report.problems()}: {report.tally.details}"
    tally = report.tally
    # the load proves something only if the caps bound and mail went out
    assert tally.capacity_refusals > 0
    assert tally.reviewers_at_cap >= tally.requests // 4
    assert tally.mail_delivered >= tally.mail_expected > 0


def test_worker_kills_leader_kills_a_postgres_crash_and_a_durable_redis_restart() -> None:
    report = run_plan(
        Plan(
            worker_kills=3,
            leader_kills=2,
            postgres_crashes=1,
            redis_durable_restarts=1,
            fault_every=3.0,
            time_cap=300,
        )
    )

    assert report.injected() == {
        WORKER_KILL: 3,
        LEADER_KILL: 2,
        POSTGRES_CRASH: 1,
        REDIS_DURABLE: 1,
    }
    assert_clean(report)
    assert report.kills_with_messages_in_flight >= 1, "no kill hit a message: proves nothing"
    assert report.tally.batches_expired > 0
    # the long-lived producer saw Redis (or PostgreSQL) refuse, retried, and went on after it
    assert report.producer_errors.get("BrokerUnavailable"), "Redis never refused an enqueue"
    assert report.accepted_after_redis_restart > 0
    restart = next(f for f in report.faults if f.kind == REDIS_DURABLE)
    assert not restart.note.startswith("0 "), "nothing waited in Redis: proves nothing"
    assert report.recovered_in_s is not None and report.recovered_in_s <= 60


def test_a_redis_restart_without_persistence_loses_nothing_accepted() -> None:
    """Redis keeps nothing on disk: what waited in its queues is re-driven from the store."""
    report = run_plan(Plan(worker_kills=0, leader_kills=0, redis_volatile_restarts=1, time_cap=300))

    assert report.injected() == {REDIS_VOLATILE: 1}
    assert not report.faults[0].note.startswith("0 "), "nothing waited in Redis: proves nothing"
    assert_clean(report)
