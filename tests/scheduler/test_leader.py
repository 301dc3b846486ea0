"""The leader lease and the per-(job, fire time) dedupe key, against real Redis."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from peewee import Database

from scheduler import jobs as jobs_module
from scheduler.daemon import EPOCH, ScheduledJob, SchedulerDaemon, fire_slot
from scheduler.jobs import JobOptions, JobReport
from scheduler.leader import LeaderLease, claim_fire
from workers.redis_keys import SCHEDULER_LEADER_KEY

TTL = timedelta(seconds=5)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lease(client: Any, owner: str, clock: FakeClock | None = None) -> LeaderLease:
    return LeaderLease(client, ttl=TTL, owner=owner, clock=clock or time.monotonic)


def test_only_one_of_two_processes_takes_the_lease(redis_client: Any) -> None:
    first, second = lease(redis_client, "a"), lease(redis_client, "b")

    assert first.keep() is True
    assert second.keep() is False
    assert first.is_held() and not second.is_held()
    assert first.current_owner() == "a"
    assert 0 < redis_client.pttl(SCHEDULER_LEADER_KEY) <= TTL.total_seconds() * 1000


def test_the_owner_renews_and_the_key_lives_on(redis_client: Any) -> None:
    first = lease(redis_client, "a")
    first.keep()
    redis_client.pexpire(SCHEDULER_LEADER_KEY, 100)

    assert first.keep() is True
    assert redis_client.pttl(SCHEDULER_LEADER_KEY) > 1000


def test_a_non_owner_can_neither_renew_nor_release_the_lease(redis_client: Any) -> None:
    first, second = lease(redis_client, "a"), lease(redis_client, "b")
    first.keep()

    assert second._try_renew() is False
    assert second.release() is False
    assert first.current_owner() == "a"


def test_a_leader_whose_key_was_taken_over_stops_at_its_next_renewal(redis_client: Any) -> None:
    first, second = lease(redis_client, "a"), lease(redis_client, "b")
    first.keep()
    redis_client.delete(SCHEDULER_LEADER_KEY)  # as if it expired during a long pause
    assert second.keep() is True

    assert first.keep() is False
    assert first.is_held() is False
    assert second.current_owner() == "b"


def test_a_leader_that_cannot_renew_in_time_stops_leading_before_the_key_expires(
    redis_client: Any,
) -> None:
    clock = FakeClock()
    first = lease(redis_client, "a", clock)
    first.keep()
    clock.now += TTL.total_seconds() - first.margin_s - 0.01
    assert first.is_held() is True

    clock.now += 0.02

    assert first.is_held() is False


def test_a_leader_that_loses_redis_stops_leading_at_once(redis_client: Any) -> None:
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    first = lease(unreachable, "a")
    first._valid_until = time.monotonic() + 100  # as if it had led until now

    assert first.keep() is False
    assert first.is_held() is False


def test_release_hands_the_lease_to_a_standby_at_once(redis_client: Any) -> None:
    first, second = lease(redis_client, "a"), lease(redis_client, "b")
    first.keep()

    assert first.release() is True

    assert second.keep() is True


def test_a_fire_time_is_claimed_once(redis_client: Any) -> None:
    slot = datetime(2026, 1, 1, 12, 0)
    ttl = timedelta(minutes=1)

    claims = [claim_fire(redis_client, "job", slot, ttl=ttl, owner=o) for o in "abc"]
    other_slot = claim_fire(redis_client, "job", slot + ttl, ttl=ttl, owner="a")
    other_job = claim_fire(redis_client, "other", slot, ttl=ttl, owner="a")

    assert claims == [True, False, False]
    assert other_slot and other_job


def test_fire_slots_are_whole_intervals_from_one_epoch_in_every_process() -> None:
    interval = timedelta(minutes=15)
    now = datetime(2026, 3, 4, 10, 29, 59, 999_000)

    assert fire_slot(now, interval) == datetime(2026, 3, 4, 10, 15)
    assert fire_slot(datetime(2026, 3, 4, 10, 30), interval) == datetime(2026, 3, 4, 10, 30)
    assert (fire_slot(now, timedelta(seconds=7)) - EPOCH) % timedelta(seconds=7) == timedelta(0)


def test_two_processes_that_both_believe_they_lead_run_a_slot_once(
    sqlite_db: Database, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[datetime] = []

    def counting_job(now: datetime, options: JobOptions) -> JobReport:
        runs.append(now)
        return JobReport("counting")

    monkeypatch.setitem(jobs_module.JOBS, "counting", counting_job)
    job = ScheduledJob("counting", timedelta(minutes=1))
    now = datetime(2026, 1, 1, 12, 0, 30)
    daemons = []
    for owner in ("a", "b"):
        held = lease(redis_client, owner)
        held._valid_until = time.monotonic() + 60  # both think they lead
        daemons.append(
            SchedulerDaemon(
                redis_client, held, [job], JobOptions(), renew_every=TTL, clock=lambda: now
            )
        )

    reports = [d.fire(job) for d in daemons]

    assert len(runs) == 1
    assert sum(r is not None for r in reports) == 1


def test_a_process_without_the_lease_never_runs_a_job(
    redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[datetime] = []

    def counting_job(now: datetime, options: JobOptions) -> JobReport:
        runs.append(now)
        return JobReport("counting")

    monkeypatch.setitem(jobs_module.JOBS, "counting", counting_job)
    job = ScheduledJob("counting", timedelta(minutes=1))
    standby = SchedulerDaemon(
        redis_client, lease(redis_client, "b"), [job], JobOptions(), renew_every=TTL
    )

    assert standby.fire(job) is None
    assert runs == []
