"""Find records by the ids producers use: a uuid or an external id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from store.base import BaseModel, ExternalModel
from store.locks import locked

M = TypeVar("M", bound=ExternalModel)


def as_uuid(token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(token)
    except (ValueError, AttributeError, TypeError):
        return None


def storable(token: str) -> bool:
    """Whether `token` could be a stored external id: PostgreSQL text holds no NUL character
    (and refuses a query that carries one), so a token with one names no record."""
    return "\x00" not in token


def resolve_ids(model: type[M], tokens: Sequence[str]) -> tuple[dict[str, M], list[str]]:
    """Map each token to its record; return the found ones and, in input order, the missing.

    A token that no record can carry (a NUL in it) is missing without reaching the database.
    """
    wanted = list(dict.fromkeys(tokens))
    uuids = {t: u for t in wanted if (u := as_uuid(t)) is not None}
    found: dict[str, M] = {}
    for chunk_start in range(0, len(wanted), 500):
        chunk = wanted[chunk_start : chunk_start + 500]
        external = [t for t in chunk if storable(t)]
        chunk_uuids = [uuids[t] for t in chunk if t in uuids]
        if not external and not chunk_uuids:
            continue
        condition = model.external_id.in_(external)
        if chunk_uuids:
            condition = condition | model.uuid.in_(chunk_uuids)
        by_uuid = {uuids[t]: t for t in chunk if t in uuids}
        for row in model.select().where(condition):
            if row.external_id in external:
                found[row.external_id] = row
            if row.uuid in by_uuid:
                found[by_uuid[row.uuid]] = row
    missing = [t for t in wanted if t not in found]
    return found, missing


UUID_HEX_DIGITS = 32


def uuids_starting_with(model: type[BaseModel], prefix: str, limit: int = 2) -> list[uuid.UUID]:
    """Up to `limit` uuids of `model` that begin with `prefix` (hex digits, dashes ignored),
    read as a range on the unique index: the same query on SQLite and PostgreSQL."""
    digits = prefix.replace("-", "").lower()
    if (
        not digits
        or len(digits) > UUID_HEX_DIGITS
        or any(c not in "0123456789abcdef" for c in digits)
    ):
        return []
    low = uuid.UUID(digits.ljust(UUID_HEX_DIGITS, "0"))
    high = uuid.UUID(digits.ljust(UUID_HEX_DIGITS, "f"))
    query = (
        model.select(model.uuid)
        .where(model.uuid.between(low, high))
        .order_by(model.uuid)
        .limit(limit)
    )
    return [row.uuid for row in query]


def resolve_id(model: type[M], token: str) -> M | None:
    found, _ = resolve_ids(model, [token])
    return found.get(token)


B = TypeVar("B", bound=BaseModel)


def find_by_uuid(model: type[B], token: str, *, lock: bool = False) -> B | None:
    """The record of `model` whose uuid is `token` (row-locked when `lock`), else None."""
    parsed = as_uuid(token)
    if parsed is None:
        return None
    query = model.select().where(model.uuid == parsed)
    found: B | None = (locked(query) if lock else query).first()
    return found
