"""Give each message a database connection, checked, and clean when the message ends."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from peewee import InterfaceError, OperationalError
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from config import get_settings
from store.db import connect_database, database

logger = logging.getLogger(__name__)

#: A thread keeps its connection between messages that follow within this many seconds; an
#: older one goes back to the pool, which checks it (a round trip) before it is used again.
KEEP_SECONDS = 1.0


def ensure_database(threads: int | None = None) -> None:
    """Bind the models to DATABASE_URL once per process, with a pool sized to the threads."""
    if database.obj is None:
        settings = get_settings()
        connect_database(
            settings.effective_database_url,
            max_connections=(threads or settings.worker_threads) + 2,
        )


def _left_open() -> bool:
    """Whether this thread's connection is inside a transaction (an atomic block, or a BEGIN
    peewee does not track: the driver's own status says)."""
    if database.in_transaction():
        return True
    connection = database.connection()
    status = getattr(connection, "get_transaction_status", None)  # psycopg2
    if status is not None:
        return bool(status() != TRANSACTION_STATUS_IDLE)
    return bool(getattr(connection, "in_transaction", False))  # sqlite3


class DatabaseConnection(dramatiq.Middleware):
    """Opens (or takes from the pool) a connection before a message and cleans it after.

    A transaction left open by a failing actor is rolled back, so the next message on the same
    thread starts clean, and a broken connection is closed, never handed on. A healthy one stays
    with its thread for the next message if it comes within KEEP_SECONDS: the pool's check of a
    connection it hands out is a round trip (`SELECT 1`), which a busy worker paid on every
    message. One that sat idle longer (the database may have restarted meanwhile) goes back to
    the pool and is checked before its next use.
    """

    def __init__(self) -> None:
        self._used = threading.local()  # .at: when this thread's last message ended

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        ensure_database(getattr(worker, "worker_threads", None))

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        ensure_database()
        last = getattr(self._used, "at", None)
        if last is not None and time.monotonic() - last > KEEP_SECONDS and not database.is_closed():
            database.close()  # back to the pool, checked as it comes out again
        database.connect(reuse_if_open=True)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self._release(broken=isinstance(exception, OperationalError | InterfaceError))

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._release()

    def _release(self, *, broken: bool = False) -> None:
        if database.obj is None or database.is_closed():
            return
        self._used.at = time.monotonic()
        try:
            if _left_open():
                database.execute_sql("ROLLBACK")
        except Exception:  # the connection may be the thing that broke
            logger.warning("rollback of a leftover transaction failed", exc_info=True)
            broken = True
        finally:
            # A connection that failed (database restarted) must not go back to the pool,
            # or the retry would get the same dead connection.
            if broken:
                self._used.at = None
                if hasattr(database.obj, "manual_close"):
                    database.obj.manual_close()
                else:
                    database.close()
