"""The one database of the process: SQLite by default, PostgreSQL through a pool.

Models bind to `database`, a proxy initialised by `connect_database` from `DATABASE_URL`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from peewee import Database, DatabaseProxy, SqliteDatabase
from playhouse.db_url import parse as parse_db_url
from playhouse.pool import PooledPostgresqlDatabase

database = DatabaseProxy()

SQLITE_BUSY_TIMEOUT_MS = 30_000
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"
POSTGRES_SCHEMES = ("postgres", "postgresql", "postgres+pool", "postgresql+pool")


class UnsupportedDatabaseURL(ValueError):
    """DATABASE_URL names a database reviewq does not run on."""


def build_database(url: str, *, max_connections: int = 10) -> Database:
    """A peewee database for `url`, configured as interfaces.md and reliability.md require."""
    scheme = urlparse(url).scheme
    params: dict[str, Any] = parse_db_url(url)
    if scheme.startswith("sqlite"):
        return _sqlite(params.pop("database"))
    if scheme in POSTGRES_SCHEMES:
        params.setdefault("max_connections", max_connections)
        params.setdefault("stale_timeout", 300)
        params.setdefault("timeout", 30)
        # Only prepared statements (store/compiled.py) follow this: each is planned once per
        # connection, not at every run (their lists are `= ANY(array)`, which index scans
        # serve at any length).
        params["options"] = f"{params.get('options', '')} {GENERIC_PLANS}".strip()
        return PooledPostgresqlDatabase(params.pop("database"), autorollback=False, **params)
    raise UnsupportedDatabaseURL(
        f"DATABASE_URL: unsupported scheme {scheme!r}; use sqlite:///PATH or postgresql://..."
    )


def _sqlite(path: str) -> SqliteDatabase:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteDatabase(
        path,
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "synchronous": "normal",
        },
    )


def connect_database(url: str, *, max_connections: int = 10) -> Database:
    """Point every model at the database of `url` and return it."""
    current = database.obj
    if current is not None and not current.is_closed():
        current.close()
    db = build_database(url, max_connections=max_connections)
    database.initialize(db)
    return db


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that may check capacity and then write.

    On SQLite it begins IMMEDIATE, so writers are serialised from the first statement; on
    PostgreSQL the caller takes row locks (`store.locks`) inside it.
    """
    if database.in_transaction():
        with database.atomic():
            yield
        return
    ctx = database.atomic("IMMEDIATE") if is_sqlite() else database.atomic()
    with ctx:
        yield


def create_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist (tests, benchmarks)."""
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(urlunparse(parsed._replace(path="/postgres")))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
