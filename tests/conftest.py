"""Fixtures shared by the whole suite: one database fixture per kind (SQLite, PostgreSQL), real
Redis, the StubBroker, a real SMTP server, the API and the command line in-process. What tests
build is in tests/builders.py and tests/factories.py.

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
from peewee import Database

from config import get_settings
from store.db import connect_database, create_postgres_database, database
from store.migrations import drop_everything, migrate
from tests.builders import (
    BASE,
    PG_URL,
    PUBLIC_URL,
    REDIS_URL,
    CollectingHandler,
    free_port,
)

# what the code under test reads (workers started by the tests inherit it)
os.environ.setdefault("REDIS_URL", REDIS_URL)
# a fixed key, so that no test writes one into ./var (tests of the generated key unset it)
os.environ.setdefault("REVIEWQ_SECRET_KEY", "reviewq-tests-secret-key-not-for-production")


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
def unreachable_broker() -> Iterator[Any]:
    """A Redis broker on a port nothing listens on, as the process's broker for one test."""
    from tests.builders import free_port
    from workers.broker import build_broker, get_broker, set_broker

    previous = get_broker()
    broker = build_broker(f"redis://127.0.0.1:{free_port()}/0")
    set_broker(broker)
    yield broker
    set_broker(previous)


def use_public_url(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[str]:
    """PUBLIC_URL = `url` until the generator is closed (the settings read it afresh)."""
    monkeypatch.setenv("PUBLIC_URL", url)
    get_settings.cache_clear()
    yield url.rstrip("/")
    get_settings.cache_clear()


@pytest.fixture
def public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """PUBLIC_URL (with a trailing slash, as operators write it) is PUBLIC_URL for one test."""
    yield from use_public_url(monkeypatch, PUBLIC_URL + "/")


@pytest.fixture
def testserver_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """PUBLIC_URL = the TestClient's base URL, so that `url` fields can be followed."""
    yield from use_public_url(monkeypatch, BASE)


@pytest.fixture
def redis_client() -> Iterator[object]:
    """The test Redis database, emptied before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


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
def api_client(db: Database, redis_client: Any) -> Iterator[Any]:
    """The HTTP API in-process (FastAPI's TestClient) over the test database; the test Redis
    starts empty, so no earlier test's failed authentications count against this one."""
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
