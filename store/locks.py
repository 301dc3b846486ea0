"""Row locks for check-then-write sequences (capacity, state transitions).

PostgreSQL takes `SELECT ... FOR UPDATE` in id order (no deadlock between two lockers);
SQLite has no row locks, and `write_transaction` already began IMMEDIATE, serialising writers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from peewee import Model

from store.db import is_sqlite


def lock_rows(model: type[Model], ids: Iterable[int]) -> None:
    """Lock the rows of `model` with these ids until the transaction ends."""
    wanted = sorted(set(ids))
    if not wanted or is_sqlite():
        return
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        query = model.select(model._meta.primary_key).where(model._meta.primary_key.in_(chunk))
        list(query.order_by(model._meta.primary_key).for_update())


def locked(query: Any, of: Any = None) -> Any:
    """`query` with FOR UPDATE on PostgreSQL (rows locked, values fresh); as is on SQLite.
    `of`: the only model whose rows are locked (a query with an outer join needs it)."""
    if is_sqlite():
        return query
    return query.for_update() if of is None else query.for_update(of=of)


# Lock order, the same for every writer so two writers never wait on each other in a cycle:
#   Call -> Review -> Reviewer -> ReviewerPoolEntry -> AssignmentBatch -> AssignmentItem,
# and within one table by id (lock_rows sorts). Take what you need, in this order, at the
# start of the transaction, before reading what the locks protect.
