"""PostgreSQL restarted during a load: the actors retry and every request completes once.

The test runs a private PostgreSQL cluster (initdb in a temporary directory, its own port) and
restarts it; the machine's PostgreSQL is not touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store import AssignmentRequest, Notification, Review
from store.db import connect_database, database
from store.enums import RequestStatus, ReviewState
from store.migrations import migrate
from tests import builders
from tests.builders import REDIS_URL, free_port
from tests.factories import make_call, make_proposal, make_review, make_reviewer
from workers.supervisor import start_dramatiq

pytestmark = pytest.mark.e2e

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class PrivatePostgres:
    """A throw-away cluster run as the `postgres` user (initdb refuses root)."""

    def __init__(self, root: Path) -> None:
        self.bin = Path(BINARIES[-1])
        self.data = root / "pgdata"
        self.port = free_port()
        shutil.chown(root, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/reviewq"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)

    def init(self) -> None:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )
        self.pg_ctl("start")
        self._as_postgres(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "reviewq"
        )

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


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not BINARIES or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL's server binaries and runuser")
    # not under pytest's tmp_path: the postgres user must be able to reach the directory
    root = Path(tempfile.mkdtemp(prefix="reviewq-pg-"))
    server = PrivatePostgres(root)
    try:
        server.init()
        yield server
        database.close()
        server.pg_ctl("stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def unfinished(ids: list[int]) -> int:
    for _ in range(50):  # this process's own connection died with the server: retry
        try:
            return builders.unfinished(ids)
        except Exception:
            database.close()
            time.sleep(0.2)
    raise AssertionError("the test could not reach PostgreSQL again")


def test_a_postgres_restart_mid_load_is_retried_and_every_request_completes(
    private_postgres: PrivatePostgres, redis_client: Any, tmp_path: Path
) -> None:
    from tasks.producers import enqueue_assign_reviews

    connect_database(private_postgres.url)
    migrate()
    call = make_call()
    make_reviewer("a", email="a@example.org")
    make_reviewer("b", email="b@example.org")
    ids = []
    for n in range(60):
        make_review(make_proposal(call), f"r{n}")
        body = {
            "reviewIds": [f"r{n}"],
            "assignmentStrategy": {"type": "round_robin", "pool": ["a", "b"]},
        }
        ids.append(enqueue_assign_reviews(body, idempotency_key=f"k{n}").id)
    database.close()
    env = {
        "DATABASE_URL": private_postgres.url,
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_DATA_DIR": str(tmp_path),
    }
    with (tmp_path / "worker.log").open("wb") as log:
        worker = start_dramatiq(
            1, 4, env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        while unfinished(ids) == len(ids):
            time.sleep(0.05)
        private_postgres.pg_ctl("restart")  # mid-load: the pool's connections all die
        restarted_with = unfinished(ids)
        deadline = time.monotonic() + 120
        while unfinished(ids) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)

    assert restarted_with > 0, "the load finished before the restart: the test proves nothing"
    statuses = [r.status for r in AssignmentRequest.select().where(AssignmentRequest.id.in_(ids))]
    assert statuses.count(RequestStatus.SUCCEEDED) == 60
    assert Review.select().where(Review.state == ReviewState.IN_REVIEW).count() == 60
    keys = [n.dedupe_key for n in Notification.select()]
    assert len(keys) == len(set(keys)) == 60
