"""The scheduler daemon: an APScheduler BlockingScheduler that runs the jobs only while leading.

Every process runs the same schedule; a fire does something only if (1) this process holds
the leader lease (scheduler/leader.py), kept by a thread of its own so that a slow job never
delays a renewal, and (2) it wins the dedupe key of (job, fire time). Fire times are aligned
on a fixed epoch (multiples of the interval), so every process computes the same fire time
for the same slot, and a standby that takes over mid-slot does not fire that slot again.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

import redis
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from config import Settings
from scheduler.jobs import JOBS, JobOptions, JobReport
from scheduler.leader import LeaderLease, claim_fire
from store.clock import utcnow
from store.db import database

logger = logging.getLogger(__name__)

#: Fire times are this instant plus whole intervals, in every process.
EPOCH = datetime(2000, 1, 1)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    interval: timedelta


def schedule_from_settings(settings: Settings) -> list[ScheduledJob]:
    """Every job with the interval the environment gives it."""
    seconds = {
        "expire_batches": settings.scheduler_expiry_seconds,
        "notify_managers": settings.scheduler_notice_seconds,
        "send_reminders": settings.scheduler_reminder_seconds,
        "remind_review_deadlines": settings.scheduler_reminder_seconds,
        "sweep_outbox": settings.scheduler_sweep_seconds,
        "redrive_requests": settings.scheduler_redrive_seconds,
    }
    return [ScheduledJob(name, timedelta(seconds=seconds[name])) for name in JOBS]


def fire_slot(now: datetime, interval: timedelta) -> datetime:
    """The fire time of the slot `now` falls in: EPOCH plus a whole number of intervals."""
    return EPOCH + ((now - EPOCH) // interval) * interval


class SchedulerDaemon:
    """Runs `jobs` on their intervals while this process leads; see the module docstring."""

    def __init__(
        self,
        client: redis.Redis,
        lease: LeaderLease,
        jobs: list[ScheduledJob],
        options: JobOptions,
        *,
        renew_every: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.client = client
        self.lease = lease
        self.jobs = jobs
        self.options = options
        self.renew_every = renew_every
        self.clock = clock
        self.stopping = threading.Event()
        self.scheduler = self._build_scheduler()

    def fire(self, job: ScheduledJob) -> JobReport | None:
        """Run `job` once for the current slot if this process leads and wins the slot;
        None when it did not run. Errors are logged, never raised (the next fire retries)."""
        if not self.lease.is_held():
            return None
        now = self.clock()
        try:
            ttl = 2 * job.interval + timedelta(milliseconds=self.lease.ttl_ms)
            slot = fire_slot(now, job.interval)
            if not claim_fire(self.client, job.name, slot, ttl=ttl, owner=self.lease.owner):
                return None
            with database.connection_context():
                report = JOBS[job.name](now, self.options)
        except Exception:
            logger.exception("scheduler job %s failed; the next fire retries", job.name)
            return None
        # Quiet ticks go to DEBUG: a 30-second sweep would otherwise fill the log.
        level = logging.INFO if any(report.counts.values()) else logging.DEBUG
        logger.log(level, "%s", report.summary())
        return report

    def keep_lease(self) -> None:
        """Renew (or try to take) the lease until stopped; a standby polls more often."""
        while not self.stopping.is_set():
            held = self.lease.keep()
            self.stopping.wait(self._poll_seconds(held))
        self.lease.release()

    def serve(self) -> int:
        """Run until SIGTERM or SIGINT; give the lease up on the way out."""
        keeper = threading.Thread(target=self.keep_lease, name="scheduler-lease", daemon=True)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        keeper.start()
        try:
            self.scheduler.start()
        finally:
            self.stopping.set()
            keeper.join(timeout=10)
        return 0

    def _poll_seconds(self, held: bool) -> float:
        renew = self.renew_every.total_seconds()
        if held:
            return renew
        return min(renew, max(self.lease.ttl_ms / 1000 / 10, 0.1))

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("scheduler stopping (signal %s)", signum)
        self.stopping.set()
        self.scheduler.shutdown(wait=False)

    def _build_scheduler(self) -> BlockingScheduler:
        scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max(len(self.jobs), 1))}, timezone=UTC
        )
        for job in self.jobs:
            scheduler.add_job(
                self.fire,
                IntervalTrigger(
                    seconds=job.interval.total_seconds(), start_date=EPOCH.replace(tzinfo=UTC)
                ),
                args=[job],
                id=job.name,
                name=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(int(job.interval.total_seconds()), 1),
            )
        return scheduler


def build_daemon(settings: Settings, client: redis.Redis) -> SchedulerDaemon:
    """The daemon the environment describes."""
    lease = LeaderLease(client, ttl=timedelta(seconds=settings.scheduler_lease_seconds))
    return SchedulerDaemon(
        client,
        lease,
        schedule_from_settings(settings),
        JobOptions.from_settings(settings),
        renew_every=timedelta(seconds=settings.scheduler_renew_seconds),
    )
