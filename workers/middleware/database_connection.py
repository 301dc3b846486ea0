"""Give each message a database connection and always give it back."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from peewee import InterfaceError, OperationalError

from config import get_settings
from store.db import connect_database, database

logger = logging.getLogger(__name__)


def ensure_database(threads: int | None = None) -> None:
    """Bind the models to DATABASE_URL once per process, with a pool sized to the threads."""
    if database.obj is None:
        settings = get_settings()
        connect_database(
            settings.effective_database_url,
            max_connections=(threads or settings.worker_threads) + 2,
        )


class DatabaseConnection(dramatiq.Middleware):
    """Opens (or takes from the pool) a connection before a message and returns it after.

    A transaction left open by a failing actor is rolled back, so the next message on the same
    thread starts clean, and a broken connection is never handed on.
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        ensure_database(getattr(worker, "worker_threads", None))

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        ensure_database()
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
        try:
            if database.in_transaction():
                database.rollback()
        except Exception:  # the connection may be the thing that broke
            logger.warning("rollback of a leftover transaction failed", exc_info=True)
            broken = True
        finally:
            # A connection that failed (database restarted) must not go back to the pool,
            # or the retry would get the same dead connection.
            if broken and hasattr(database.obj, "manual_close"):
                database.obj.manual_close()
            else:
                database.close()
