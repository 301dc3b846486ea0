"""Real `dramatiq` worker processes for the tests of workers/ (the wire, mail recovery)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.builders import PG_URL, REDIS_URL, stop_process_group
from workers.supervisor import start_dramatiq

StartWorker = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[StartWorker]:
    """Start a `dramatiq` command over every actor on the test PostgreSQL and Redis (extra
    environment as keywords); every one started is stopped at the end of the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(processes: int = 1, threads: int = 2, **env: str) -> subprocess.Popen[bytes]:
        full = {
            "DATABASE_URL": PG_URL,
            "REDIS_URL": REDIS_URL,
            "REVIEWQ_DATA_DIR": str(tmp_path),
            **env,
        }
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        proc = start_dramatiq(
            processes, threads, full, start_new_session=True, stdout=log, stderr=log
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            stop_process_group(proc)
