"""One chaos run: private PostgreSQL, Redis and SMTP; worker nodes through the supervisor; two
schedulers; a sustained load (load.py); faults injected one after another at `fault_every`
seconds; then recovery, and the count (evidence.py).

`bench/chaos.py` runs it long; tests/reliability/test_chaos*.py run it short. Both read the
same `Report`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis

from store import AssignmentRequest, Notification, database
from store.db import connect_database
from store.enums import FINISHED_REQUEST_STATUSES, NotificationStatus
from store.migrations import migrate
from tests.reliability.chaos.evidence import Fault, as_naive_utc, count, install_audit
from tests.reliability.chaos.load import Producer, WaveShape
from tests.reliability.chaos.report import Report
from tests.reliability.chaos.services import (
    PrivatePostgres,
    PrivateRedis,
    Schedulers,
    SmtpSink,
    WorkerNode,
)
from workers.redis_keys import QUEUE_NAMESPACE

logger = logging.getLogger(__name__)

WORKER_KILL = "worker SIGKILL"
LEADER_KILL = "scheduler leader SIGKILL"
POSTGRES_CRASH = "postgres postmaster SIGKILL"
REDIS_DURABLE = "redis SIGKILL, appendonly"
REDIS_VOLATILE = "redis SIGKILL, no persistence"


@dataclass(frozen=True)
class Plan:
    """What to break and for how long; every wait is bounded by `time_cap`."""

    worker_kills: int = 3
    leader_kills: int = 1
    postgres_crashes: int = 0
    redis_durable_restarts: int = 0
    redis_volatile_restarts: int = 0
    nodes: int = 2
    threads: int = 4
    fault_every: float = 4.0
    wave_every: float = 2.0
    shape: WaveShape = field(default_factory=WaveShape)
    time_cap: float = 600.0
    recovery_cap: float = 150.0
    down_seconds: float = 2.0
    root: Path | None = None

    def schedule(self) -> list[str]:
        """The faults in order: spread out, the volatile Redis restart(s) last (after it the
        run goes on without persistence)."""
        counts = {
            WORKER_KILL: self.worker_kills,
            LEADER_KILL: self.leader_kills,
            POSTGRES_CRASH: self.postgres_crashes,
            REDIS_DURABLE: self.redis_durable_restarts,
        }
        order: list[str] = []
        while any(counts.values()):
            for kind, left in counts.items():
                if left:
                    order.append(kind)
                    counts[kind] = left - 1
        return order + [REDIS_VOLATILE] * self.redis_volatile_restarts


class ChaosRun:
    """The services of one run and the faults it injects; see the module docstring."""

    def __init__(self, plan: Plan, root: Path) -> None:
        self.plan = plan
        self.root = root
        self.faults: list[Fault] = []
        self.in_flight_kills = 0
        self.started = time.monotonic()
        self.pg = PrivatePostgres(root / "pg")
        # durable until a restart without persistence (the last faults) turns it off
        self.redis = PrivateRedis(root / "redis", durable=True)
        self.smtp = SmtpSink()
        self.nodes: list[WorkerNode] = []
        self.schedulers: Schedulers | None = None
        self.producer = Producer(plan.shape, plan.wave_every)
        self.redis_restarted_at: float | None = None

    # --- the services --------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis.url,
            "SMTP_URL": self.smtp.url,
            "REVIEWQ_DATA_DIR": str(self.root / "data"),
            "REVIEWQ_SCHEDULER_EXPIRY_SECONDS": "1",
            "REVIEWQ_SCHEDULER_REMINDER_SECONDS": "1",
            "REVIEWQ_SCHEDULER_NOTICE_SECONDS": "1",
            "REVIEWQ_SCHEDULER_LEASE_SECONDS": "3",
            "REVIEWQ_SCHEDULER_RENEW_SECONDS": "1",
            # the outbox (sweep, redrive, stale claim) keeps its production settings: "mail
            # within 60 s of recovery" is measured with them; lost requests are re-driven
            # sooner than in production (60 s, every 30 s) to keep the runs short
            "REVIEWQ_REQUEST_REDRIVE_AFTER_SECONDS": "10",
            "REVIEWQ_SCHEDULER_REDRIVE_SECONDS": "5",
        }

    def start(self) -> None:
        from workers.broker import build_broker, set_broker

        self.pg.init()
        self.redis.start()
        self.smtp.start()
        connect_database(self.pg.url)
        migrate()
        install_audit()
        set_broker(build_broker(self.redis.url))
        env = self.env()
        for n in range(self.plan.nodes):
            self.nodes.append(
                WorkerNode(f"node{n}", env, self.root, threads=self.plan.threads).start()
            )
        self.schedulers = Schedulers(env, self.root)
        self.schedulers.start_one()
        self.schedulers.start_one()
        self.wait_for(lambda: all(n.is_up() for n in self.nodes), 120, "the worker nodes")

    def stop(self) -> None:
        self.producer.stop(timeout=5)
        for node in self.nodes:
            node.stop()
        if self.schedulers is not None:
            self.schedulers.stop()
        self.smtp.stop()
        self.redis.stop()
        database.close()
        self.pg.stop()

    # --- waiting -------------------------------------------------------------------------

    def remaining(self) -> float:
        return self.plan.time_cap - (time.monotonic() - self.started)

    def wait_for(self, condition: Callable[[], bool], seconds: float, what: str) -> bool:
        """Poll `condition` (errors count as not yet) for at most `seconds` (and the cap)."""
        deadline = time.monotonic() + min(seconds, max(self.remaining(), 1.0))
        while time.monotonic() < deadline:
            try:
                if condition():
                    return True
            except Exception:  # a service is down: not yet
                database.close()
            time.sleep(0.1)
        logger.warning("chaos: gave up waiting for %s", what)
        return False

    def client(self) -> redis.Redis:
        client: redis.Redis = redis.Redis.from_url(self.redis.url, socket_timeout=2)
        return client

    # --- the faults ----------------------------------------------------------------------

    def inject(self, kind: str) -> None:
        actions: dict[str, Callable[[], str]] = {
            WORKER_KILL: self.kill_worker,
            LEADER_KILL: self.kill_leader,
            POSTGRES_CRASH: self.crash_postgres,
            REDIS_DURABLE: lambda: self.restart_redis(durable=True),
            REDIS_VOLATILE: lambda: self.restart_redis(durable=False),
        }
        injected = time.time()
        note = actions[kind]()
        interrupts = kind in (WORKER_KILL, POSTGRES_CRASH)
        self.faults.append(Fault(kind, injected, time.time(), note, interrupts_delivery=interrupts))

    def kill_worker(self) -> str:
        self.wait_for(lambda: any(n.is_up() for n in self.nodes), 90, "a node to kill")
        node = min((n for n in self.nodes if n.is_up()), key=lambda n: n.kills, default=None)
        if node is None:
            return "no node up"
        # strike while messages are fetched and unacknowledged (a wave was just sent)
        self.wait_for(lambda: self._messages_in_flight() > 0, 10, "messages in flight")
        in_flight = self._messages_in_flight()
        pid = node.kill_a_worker()
        self.in_flight_kills += in_flight > 0
        self.wait_for(node.is_up, 90, f"{node.name} to come back")
        return f"{node.name} pid {pid}, {in_flight} messages in flight"

    def _messages_in_flight(self) -> int:
        try:
            client = self.client()
            keys = list(client.scan_iter(f"{QUEUE_NAMESPACE}:__acks__.*"))
            return sum(int(client.scard(k)) for k in keys)
        except redis.RedisError:
            return 0

    def kill_leader(self) -> str:
        assert self.schedulers is not None
        schedulers, client = self.schedulers, self.client()
        restarted = schedulers.ensure(2)  # a standby that died booting is started again
        self.wait_for(lambda: schedulers.leader_pid(client) is not None, 30, "a leader")
        leader = schedulers.leader_pid(client)
        if leader is None:
            return "no leader"
        time.sleep(1.0 - time.time() % 1.0 + 0.005)  # every job fires on the whole second
        proc = next(p for p in schedulers.alive() if p.pid == leader)
        proc.kill()
        proc.wait()
        self.wait_for(
            lambda: schedulers.leader_pid(client) not in (None, leader), 30, "a new leader"
        )
        restarted += schedulers.ensure(2)  # two schedulers again
        return f"pid {leader}; {restarted} schedulers started"

    def crash_postgres(self) -> str:
        self.pg.crash()
        time.sleep(self.plan.down_seconds)
        self.pg.pg_ctl("start")
        return f"down {self.plan.down_seconds} s"

    def restart_redis(self, *, durable: bool) -> str:
        if not durable:
            self.redis.durable = False
            shutil.rmtree(self.root / "redis" / "appendonlydir", ignore_errors=True)
        # hold the workers so that messages wait in Redis when it dies (the producer goes on)
        paused = [p for node in self.nodes for p in node.worker_processes()]
        for process in paused:
            process.suspend()
        try:
            time.sleep(self.plan.wave_every + 0.5)
            waiting = self._queued_messages()
            self.redis.crash_and_restart(self.plan.down_seconds)
            self.redis_restarted_at = time.time()
        finally:
            for process in paused:
                with contextlib.suppress(psutil.Error):
                    process.resume()
        return f"{waiting} messages waiting in Redis"

    def _queued_messages(self) -> int:
        try:
            client = self.client()
            return sum(int(client.hlen(k)) for k in client.scan_iter(f"{QUEUE_NAMESPACE}:*.msgs"))
        except redis.RedisError:
            return 0

    # --- the run -------------------------------------------------------------------------

    def run(self) -> Report:
        self.producer.start()
        skipped = []
        for kind in self.plan.schedule():
            if self.remaining() < self.plan.recovery_cap:
                skipped.append(kind)
                continue
            time.sleep(self.plan.fault_every)
            self.inject(kind)
        time.sleep(self.plan.fault_every)
        self.producer.stop()
        recovered_in = self.recover()
        time.sleep(2.0)  # nothing more arrives
        ids = [a.request_id for a in self.producer.accepted]
        tally = count(
            ids, self.smtp.log.snapshot(), self.faults, until=as_naive_utc(time.time() - 5)
        )
        after = self.redis_restarted_at
        return Report(
            faults=self.faults,
            tally=tally,
            seconds=time.monotonic() - self.started,
            waves=self.producer.waves,
            producer_errors=dict(self.producer.errors),
            accepted_after_redis_restart=self.producer.accepted_after(after) if after else 0,
            kills_with_messages_in_flight=self.in_flight_kills,
            recovered_in_s=recovered_in,
            root=self.root,
            skipped=skipped,
        )

    def recover(self) -> float | None:
        """Seconds from the last fault's recovery until every request finished and the outbox
        drained; None if that did not happen within `recovery_cap`."""
        if self.schedulers is not None:
            self.schedulers.ensure(2)
        ids = [a.request_id for a in self.producer.accepted]
        back = max((f.recovered for f in self.faults), default=time.time())

        def settled() -> bool:
            open_requests = AssignmentRequest.select().where(
                AssignmentRequest.id.in_(ids),
                AssignmentRequest.status.not_in(list(FINISHED_REQUEST_STATUSES)),
            )
            outbox = Notification.select().where(
                Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING])
            )
            return not open_requests.exists() and not outbox.exists()

        cap = max(self.plan.recovery_cap - (time.time() - back), 1.0)
        if self.wait_for(settled, cap, "requests and mail to settle"):
            return round(time.time() - back, 1)
        return None


def default_root() -> Path:
    """Where runs make their directories: REVIEWQ_CHAOS_ROOT, else the system's temp dir."""
    return Path(os.environ.get("REVIEWQ_CHAOS_ROOT") or tempfile.gettempdir())


@contextmanager
def chaos_run(plan: Plan) -> Iterator[ChaosRun]:
    """A started run in a fresh directory of `plan.root` (default_root() by default), stopped
    and (when it passed) removed on exit; the broker and database of the caller come back."""
    from workers.broker import get_broker, set_broker

    previous = get_broker()
    base = plan.root or default_root()
    base.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="chaos-", dir=base))
    root.chmod(0o755)
    run = ChaosRun(plan, root)
    try:
        run.start()
        yield run
    finally:
        run.stop()
        set_broker(previous)


def run_plan(plan: Plan) -> Report:
    """Run `plan`; the run's directory (logs, data) is kept only when it found a problem."""
    with chaos_run(plan) as run:
        report = run.run()
    if not report.problems():
        shutil.rmtree(report.root, ignore_errors=True)
    return report
