"""Fixtures of the HTTP API tests: the public URL the API builds its links from, the request
actors run inline or in real worker processes, and a live server for the published client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient
from peewee import Database

from config import get_settings
from tasks import actors
from tests.builders import REDIS_URL, Desk, free_port, served, stop_process_group
from workers.supervisor import start_dramatiq


@pytest.fixture
def client(api_client: TestClient) -> TestClient:
    return api_client


@pytest.fixture
def real_workers(
    db_url: str,
    db: Database,
    redis_client: Any,
    tmp_path: Path,
    testserver_url: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """`dramatiq` worker processes over the test database (SQLite file or PostgreSQL)."""
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_DATA_DIR": str(tmp_path),
        "PUBLIC_URL": testserver_url,
    }
    log = (tmp_path / "worker.log").open("wb")
    proc = start_dramatiq(1, 2, env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log)
    yield proc
    stop_process_group(proc)
    log.close()


@pytest.fixture
def inline_actors(
    monkeypatch: pytest.MonkeyPatch,
    stub_broker: StubBroker,
) -> None:
    """Run the request actors inside the web request, as a worker would, without a queue."""
    for actor in (actors.assign_reviews, actors.generate_assignments):
        monkeypatch.setattr(actor, "send", actor.fn)


@pytest.fixture
def live_url(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The API served by uvicorn in a thread on a free 127.0.0.1 port; PUBLIC_URL is its base."""
    from api.app import create_app

    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("PUBLIC_URL", url)
    get_settings.cache_clear()
    with served(create_app(), int(url.rsplit(":", 1)[1])):
        yield url
    get_settings.cache_clear()


@pytest.fixture
def desk(db: Database, testserver_url: str) -> Desk:
    return Desk()


@pytest.fixture
def web_servers(
    sqlite_db: Database, redis_client: Any, tmp_path: Path
) -> Iterator[Callable[..., tuple[str, subprocess.Popen[bytes]]]]:
    """Start real `web` processes (`python -m api`, uvicorn) on the test SQLite file and the test
    Redis: `start(**env)` returns the base URL and the process, stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'reviews.db'}",
            "REDIS_URL": REDIS_URL,
            "REVIEWQ_DATA_DIR": str(tmp_path),
            "PORT": str(port),
            **env,
        }
        log = (tmp_path / f"web-{port}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "api"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                    return url, proc
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"web did not start: {(tmp_path / f'web-{port}.log').read_text()}")

    yield start
    for proc in started:
        stop_process_group(proc)
