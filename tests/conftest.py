"""Fixtures: one database fixture per kind (SQLite, PostgreSQL), real Redis, small factories.

Environment (so that several test runs on one machine stay out of each other's way):
- REVIEWQ_TEST_PG_URL: PostgreSQL database for the tests (created if missing),
  default postgresql://postgres@127.0.0.1:5432/reviewq_test
- REVIEWQ_TEST_REDIS_URL: Redis for the tests, default redis://127.0.0.1:6379/15
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("REVIEWQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("REDIS_URL", os.environ["REVIEWQ_TEST_REDIS_URL"])

from peewee import Database

from store.db import connect_database, create_postgres_database, database
from store.migrations import drop_everything, migrate

PG_URL = os.environ.get("REVIEWQ_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/reviewq_test")
REDIS_URL = os.environ["REVIEWQ_TEST_REDIS_URL"]


def database_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'reviews.db'}"
    create_postgres_database(PG_URL)
    return PG_URL


def _fresh_database(url: str) -> Database:
    db = connect_database(url)
    drop_everything()
    migrate()
    return db


@pytest.fixture(params=["sqlite", "postgres"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(db_kind: str, tmp_path: Path) -> str:
    return database_url(db_kind, tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated, empty database: each test runs on SQLite and on PostgreSQL."""
    yield _fresh_database(db_url)
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield _fresh_database(database_url("sqlite", tmp_path))
    database.close()


@pytest.fixture
def pg_db(tmp_path: Path) -> Iterator[Database]:
    yield _fresh_database(database_url("postgres", tmp_path))
    database.close()


@pytest.fixture
def stub_broker() -> Iterator[Any]:
    """A StubBroker as the process's broker for one test, every actor declared on it."""
    from workers.broker import build_stub_broker, get_broker, set_broker

    previous = get_broker()
    broker = build_stub_broker()
    broker.emit_after("process_boot")
    set_broker(broker)
    yield broker
    set_broker(previous)
    broker.close()


@pytest.fixture
def redis_client() -> Iterator[object]:
    """The test Redis database, emptied before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class CollectingHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        import threading

        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email.policy import default

        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, CollectingHandler]]:
    """A real SMTP server on 127.0.0.1; yields (SMTP_URL, handler with .messages)."""
    from aiosmtpd.controller import Controller

    handler = CollectingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", handler
    controller.stop()


@pytest.fixture
def api_client(db: Database) -> Iterator[Any]:
    """The HTTP API in-process (FastAPI's TestClient) over the test database."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def runner(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`reviewq` through typer's CliRunner, on the test database."""
    from typer.testing import CliRunner

    from config import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
