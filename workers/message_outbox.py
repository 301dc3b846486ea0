"""The message outbox: queue messages that must not be lost between a commit and the enqueue.

A use case (or a scheduler job) that has to send a message because of a change it commits
calls `record_message` inside that change's transaction, and `send_recorded` with the ids after
the commit. A crash, or Redis unreachable, between the two leaves the row unsent, and the
scheduler's `redrive_requests` job sends it again (`redrive_recorded`). A row can therefore be
sent twice (a crash after the send and before the mark, or a redrive racing a slow send): the
actor it names must be safe to run twice, which every reviewq actor is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

import redis
from dramatiq.errors import BrokerError
from peewee import AutoField

from store.clock import utcnow
from store.db import database
from store.outbox import OutboundMessage
from workers.broker import LazyActor, get_broker

logger = logging.getLogger(__name__)

# The implicit primary key, typed (the peewee stubs do not know it).
message_pk = cast("AutoField[int]", OutboundMessage._meta.primary_key)


class RecordOutsideTransactionError(RuntimeError):
    """A message recorded outside a transaction could outlive (or precede) its change."""


def record_message(actor: LazyActor[..., Any], *args: Any) -> int:
    """Record one message for `actor` (JSON-safe positional arguments) in the open
    transaction; returns the row id for `send_recorded`."""
    if not database.in_transaction():
        raise RecordOutsideTransactionError(
            "record_message must run inside the transaction of the change that calls for it"
        )
    row = OutboundMessage.create(
        actor_name=actor.actor_name, queue_name=actor.queue_name, args=list(args)
    )
    return int(row.id)


def send_recorded(ids: Iterable[int]) -> int:
    """Send the recorded messages `ids` not sent yet, after the commit; returns how many went.

    A message that cannot reach Redis stays unsent for the redrive (logged, not raised): the
    change it belongs to is committed already.
    """
    if database.in_transaction():
        raise RuntimeError("no enqueue inside an open transaction: send_recorded after the commit")
    wanted = list(ids)
    if not wanted:
        return 0
    rows = OutboundMessage.select().where(message_pk.in_(wanted), OutboundMessage.sent_at.is_null())
    return _send(list(rows.order_by(message_pk)))


def redrive_recorded(now: datetime, older_than: timedelta, *, limit: int = 1000) -> int:
    """Send again the recorded messages still unsent `older_than` after they were written."""
    rows = (
        OutboundMessage.select()
        .where(OutboundMessage.sent_at.is_null(), OutboundMessage.created <= now - older_than)
        .order_by(message_pk)
        .limit(limit)
    )
    return _send(list(rows))


def _send(rows: list[OutboundMessage]) -> int:
    broker = get_broker()
    sent = 0
    for row in rows:
        try:
            broker.get_actor(row.actor_name).send(*row.args)
        except (redis.RedisError, BrokerError) as exc:
            logger.warning("message %s not sent (%s); the redrive sends it", row.id, exc)
            break
        OutboundMessage.update(sent_at=utcnow(), attempts=OutboundMessage.attempts + 1).where(
            message_pk == row.id
        ).execute()
        sent += 1
    return sent
