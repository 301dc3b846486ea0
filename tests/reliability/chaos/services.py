"""The real processes a chaos run starts and breaks: a private PostgreSQL cluster, a private
Redis, an SMTP server that logs every delivery, worker nodes run through the supervisor
(`reviewq worker`) and scheduler processes (`python -m scheduler`).

Every data directory goes under one root the caller gives (a directory of /tmp it owns); every
port comes from `free_port()`. Nothing here touches the machine's own PostgreSQL or Redis.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import psutil
import redis

from tests.builders import free_port, stop_process_group
from workers.embedded_redis import EmbeddedRedis
from workers.redis_keys import SCHEDULER_LEADER_KEY

ROOT = Path(__file__).resolve().parents[3]
PG_BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def postgres_available() -> bool:
    return bool(PG_BINARIES) and shutil.which("runuser") is not None


class PrivatePostgres:
    """A throw-away cluster run as the `postgres` user (initdb refuses root), under `root`."""

    def __init__(self, root: Path) -> None:
        self.bin = Path(PG_BINARIES[-1])
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        shutil.chown(root, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/reviewq"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)

    def init(self) -> PrivatePostgres:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )
        self.pg_ctl("start")
        self._as_postgres(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "reviewq"
        )
        return self

    def pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.data / "server.log"),
            "-m",
            "fast",
            "-w",
            action,
        )

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def crash(self) -> None:
        """SIGKILL the postmaster, then its orphaned backends (as a machine crash would leave
        nothing running); the next `pg_ctl start` runs crash recovery from the WAL."""
        postmaster = psutil.Process(self.postmaster_pid())
        children = postmaster.children(recursive=True)
        postmaster.send_signal(signal.SIGKILL)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(signal.SIGKILL)
        psutil.wait_procs([postmaster, *children], timeout=10)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop")


class PrivateRedis:
    """A redis-server of our own; `durable` keeps an append-only file fsynced on every write."""

    def __init__(self, root: Path, *, durable: bool) -> None:
        self.root = root
        self.durable = durable
        self.server = EmbeddedRedis(root, durable=durable)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> PrivateRedis:
        self.server.start()
        return self

    def crash_and_restart(self, down_seconds: float) -> None:
        """SIGKILL redis-server, stay down `down_seconds`, start it again on the same port."""
        assert self.server.process is not None
        self.server.process.kill()
        self.server.process.wait()
        time.sleep(down_seconds)
        self.server = EmbeddedRedis(self.root, port=self.server.port, durable=self.durable)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


@dataclass(frozen=True)
class Delivery:
    """One message the SMTP server accepted."""

    message_id: str
    kind: str
    at: float  # time.time()


class DeliveryLog:
    """An aiosmtpd handler recording the Message-ID, kind and arrival time of every message."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=default_policy)
        delivery = Delivery(
            str(message.get("Message-ID", "")), str(message.get("X-Reviewq-Kind", "")), time.time()
        )
        with self.lock:
            self.deliveries.append(delivery)
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)


class SmtpSink:
    """A real SMTP server on a free loopback port."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every line
        self.log = DeliveryLog()
        self.port = free_port()
        self.controller = Controller(self.log, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def _log_file(root: Path, name: str) -> Any:
    return (root / f"{name}.log").open("ab")


@dataclass
class WorkerNode:
    """`reviewq worker` (the supervisor) and the `dramatiq` it runs, as one node."""

    name: str
    env: dict[str, str]
    root: Path
    processes: int = 1
    threads: int = 4
    proc: subprocess.Popen[bytes] | None = None
    kills: int = 0

    def start(self) -> WorkerNode:
        reviewq = str(Path(sys.executable).with_name("reviewq"))
        command = [reviewq, "worker", "--processes", str(self.processes)]
        with _log_file(self.root, self.name) as log:
            self.proc = subprocess.Popen(
                [*command, "--threads", str(self.threads)],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def worker_processes(self) -> list[psutil.Process]:
        """The dramatiq worker processes (the supervisor's grandchildren) alive now."""
        assert self.proc is not None
        try:
            dramatiq_mains = psutil.Process(self.proc.pid).children()
            found = [w for main in dramatiq_mains for w in main.children()]
        except psutil.NoSuchProcess:
            return []
        return [w for w in found if _is_live_dramatiq(w)]

    def is_up(self) -> bool:
        return len(self.worker_processes()) >= self.processes

    def kill_a_worker(self) -> int:
        """SIGKILL one dramatiq worker process of this node (as the OOM killer would)."""
        victims = self.worker_processes()
        if not victims:
            raise RuntimeError(f"{self.name}: no worker process to kill")
        victim = victims[0]
        victim.send_signal(signal.SIGKILL)
        self.kills += 1
        return int(victim.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_process_group(self.proc, timeout=30)


def _is_live_dramatiq(process: psutil.Process) -> bool:
    try:
        alive = process.is_running() and process.status() != psutil.STATUS_ZOMBIE
        return alive and any("dramatiq" in part for part in process.cmdline())
    except psutil.Error:
        return False


@dataclass
class Schedulers:
    """Scheduler processes (`python -m scheduler`) sharing one Redis lease."""

    env: dict[str, str]
    root: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_one(self) -> subprocess.Popen[bytes]:
        proc = start_scheduler(self.env, self.root / f"scheduler-{len(self.started)}.log")
        self.started.append(proc)
        return proc

    def ensure(self, count: int = 2) -> int:
        """Start schedulers until `count` are alive, as a process manager restarts one that
        exited (a scheduler that boots while PostgreSQL is down exits); how many it started."""
        started = 0
        while len(self.alive()) < count:
            self.start_one()
            started += 1
        return started

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.started if p.poll() is None]

    def leader_pid(self, client: redis.Redis) -> int | None:
        try:
            owner = client.get(SCHEDULER_LEADER_KEY)
        except redis.RedisError:
            return None
        if not owner:
            return None
        text = owner.decode() if isinstance(owner, bytes) else str(owner)
        pid = int(text.split(":")[1])
        return pid if any(p.pid == pid for p in self.alive()) else None

    def stop(self) -> None:
        for proc in self.alive():
            stop_process_group(proc, timeout=30)


def start_scheduler(
    env: dict[str, str], log_path: Path, command: tuple[str, ...] = ("-m", "scheduler")
) -> subprocess.Popen[bytes]:
    """A scheduler process (`python -m scheduler`, or `command`) in a session of its own."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
