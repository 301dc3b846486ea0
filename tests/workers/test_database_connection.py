"""The DatabaseConnection middleware: a thread's connection between messages, on PostgreSQL
(where the pool checks a connection it hands out with a round trip)."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
from dramatiq.broker import MessageProxy
from peewee import Database, OperationalError

from store.db import database
from workers.middleware import database_connection
from workers.middleware.database_connection import DatabaseConnection


def _message() -> MessageProxy:
    return MessageProxy(
        dramatiq.Message(queue_name="q", actor_name="a", args=(), kwargs={}, options={})
    )


def _run(middleware: DatabaseConnection, exception: BaseException | None = None) -> Any:
    """One message: the connection it ran on."""
    message = _message()
    middleware.before_process_message(None, message)  # type: ignore[arg-type]
    connection = database.connection()
    database.execute_sql("SELECT 1")
    middleware.after_process_message(None, message, exception=exception)  # type: ignore[arg-type]
    return connection


def test_quick_messages_keep_their_connection_and_a_late_one_gets_it_checked(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    middleware = DatabaseConnection()
    database.close()
    first = _run(middleware)
    assert not database.is_closed()  # kept for the next message
    assert _run(middleware) is first
    checks: list[Any] = []
    adapter = database.obj._adapter
    original = adapter.is_connection_closed

    def checked(connection: Any) -> bool:
        checks.append(connection)
        return bool(original(connection))

    monkeypatch.setattr(adapter, "is_connection_closed", checked)
    assert _run(middleware) is first
    assert checks == []  # no round trip while messages follow quickly
    monkeypatch.setattr(database_connection, "KEEP_SECONDS", 0.0)
    assert _run(middleware) is first  # idle too long: back to the pool, checked on the way out
    assert checks == [first]


def test_a_transaction_left_open_is_rolled_back_and_a_broken_connection_closed(
    pg_db: Database,
) -> None:
    middleware = DatabaseConnection()
    message = _message()
    middleware.before_process_message(None, message)  # type: ignore[arg-type]
    database.begin()
    database.execute_sql("SELECT 1")
    middleware.after_process_message(None, message, exception=RuntimeError())  # type: ignore[arg-type]
    assert not database.in_transaction()
    kept = database.connection()
    assert kept.get_transaction_status() == 0  # idle: nothing left open
    broken = _run(middleware, exception=OperationalError("server closed the connection"))
    assert database.is_closed()
    assert broken.closed  # never handed to the next message
    assert _run(middleware) is not broken
