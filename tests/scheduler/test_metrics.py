"""The scheduler's metrics: runs by outcome and lag from real fires, the leader gauge from the
lease, and `python -m scheduler` serving them on REVIEWQ_SCHEDULER_METRICS_PORT."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scheduler import jobs as jobs_module
from scheduler.daemon import ScheduledJob, SchedulerDaemon
from scheduler.jobs import JobOptions, JobReport
from scheduler.leader import LeaderLease
from scheduler.metrics import SchedulerMetrics
from tests.builders import REDIS_URL, free_port, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
TTL = timedelta(seconds=5)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_runs_are_counted_by_outcome_with_their_lag(
    sqlite_db: Database, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fine(now: datetime, options: JobOptions) -> JobReport:
        return JobReport("fine")

    def broken(now: datetime, options: JobOptions) -> JobReport:
        raise RuntimeError("boom")

    monkeypatch.setitem(jobs_module.JOBS, "fine", fine)
    monkeypatch.setitem(jobs_module.JOBS, "broken", broken)
    jobs = [
        ScheduledJob("fine", timedelta(minutes=1)),
        ScheduledJob("broken", timedelta(minutes=1)),
    ]
    lease = LeaderLease(redis_client, ttl=TTL, owner="a")
    assert lease.keep()
    metrics = SchedulerMetrics()
    now = datetime(2026, 1, 1, 12, 0, 7)  # 7 s into the minute's slot
    daemon = SchedulerDaemon(
        redis_client, lease, jobs, JobOptions(), renew_every=TTL, clock=lambda: now, metrics=metrics
    )
    assert daemon.fire(jobs[0]) is not None
    assert daemon.fire(jobs[0]) is None  # the slot is taken: not a run
    assert daemon.fire(jobs[1]) is None
    found = samples(generate_latest(metrics.registry).decode())
    runs = "reviewq_scheduler_job_runs_total"
    assert found[(runs, (("job", "fine"), ("outcome", "succeeded")))] == 1
    assert found[(runs, (("job", "fine"), ("outcome", "failed")))] == 0
    assert found[(runs, (("job", "broken"), ("outcome", "failed")))] == 1
    assert found[("reviewq_scheduler_job_lag_seconds", (("job", "fine"),))] == 7


def test_the_leader_gauge_follows_the_lease(redis_client: Any) -> None:
    leader = SchedulerDaemon(
        redis_client, LeaderLease(redis_client, ttl=TTL, owner="a"), [], JobOptions(),
        renew_every=timedelta(milliseconds=50),
    )  # fmt: skip
    standby = SchedulerDaemon(
        redis_client, LeaderLease(redis_client, ttl=TTL, owner="b"), [], JobOptions(),
        renew_every=timedelta(milliseconds=50),
    )  # fmt: skip
    threads = [threading.Thread(target=d.keep_lease) for d in (leader, standby)]
    threads[0].start()
    time.sleep(0.3)
    threads[1].start()
    time.sleep(0.3)
    assert leader.metrics.leader._value.get() == 1
    assert standby.metrics.leader._value.get() == 0
    leader.stopping.set()
    standby.stopping.set()
    for thread in threads:
        thread.join(timeout=5)
    assert leader.metrics.leader._value.get() == 0


@pytest.mark.e2e
def test_the_scheduler_process_serves_its_metrics(tmp_path: Path, redis_client: Any) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/r.db",
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_SCHEDULER_METRICS_PORT": str(port),
        "REVIEWQ_SCHEDULER_SWEEP_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    found = samples(r.read().decode())
                sweeps = found.get(
                    (
                        "reviewq_scheduler_job_runs_total",
                        (("job", "sweep_outbox"), ("outcome", "succeeded")),
                    ),
                    0,
                )
                if found[("reviewq_scheduler_leader", ())] == 1 and sweeps >= 1:
                    break
            except OSError:
                assert process.poll() is None, "the scheduler exited"
            assert time.monotonic() < deadline, "no leader with a sweep run in /metrics"
            time.sleep(0.3)
    finally:
        stop_process_group(process)
