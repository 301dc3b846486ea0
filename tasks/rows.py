"""The rows the use cases act on: find one or raise NotFound, lock one, save one.

Locks follow the one order of store/locks.py (Call -> Review -> Reviewer -> ReviewerPoolEntry
-> AssignmentBatch -> AssignmentItem); each helper here takes one row of it, and the use case
calls them in that order at the start of its transaction, before reading what they protect.
A locked row is read again under its lock, so its values are fresh.
"""

from __future__ import annotations

from typing import Any, TypeVar

from store import (
    AssignmentBatch,
    AssignmentItem,
    Call,
    ConflictOfInterest,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.base import BaseModel
from store.locks import lock_rows, locked
from store.lookups import find_by_uuid, resolve_id
from tasks.access import is_manager_of
from tasks.errors import NotFound

B = TypeVar("B", bound=BaseModel)


def find(model: type[B], token: str, what: str, *, lock: bool = False) -> B:
    """The `model` row whose uuid is `token` (locked when `lock`), or NotFound(`what`)."""
    found = find_by_uuid(model, token, lock=lock)
    if found is None:
        raise NotFound(what)
    return found


def find_item(item_uuid: str, *, lock: bool = False) -> AssignmentItem:
    """The item with this uuid (locked when `lock`), or NotFound."""
    return find(AssignmentItem, item_uuid, "assignment item", lock=lock)


def find_batch(batch_uuid: str, *, lock: bool = False) -> AssignmentBatch:
    """The batch with this uuid (locked when `lock`), or NotFound."""
    return find(AssignmentBatch, batch_uuid, "assignment batch", lock=lock)


def find_conflict(coi_uuid: str, *, lock: bool = False) -> ConflictOfInterest:
    """The conflict of interest with this uuid (locked when `lock`), or NotFound."""
    return find(ConflictOfInterest, coi_uuid, "conflict of interest", lock=lock)


def lock_call(call_id: int) -> Call:
    """The Call row, locked: the first lock of every reassignment and conflict decision."""
    return locked(Call.select().where(Call.id == call_id)).get()


def lock_managed_call(actor: User, call_token: str) -> Call:
    """The call (uuid or external id) locked FOR UPDATE; NotFound unless `actor` manages it."""
    call = resolve_id(Call, str(call_token))
    if call is None or not is_manager_of(actor, call.id):
        raise NotFound("call")
    return lock_call(call.id)


def lock_pool_entry(call: Call, entry_uuid: str) -> ReviewerPoolEntry | None:
    """The call's pool entry with this uuid, its Reviewer row then itself locked (the lock
    order), read fresh; None if there is none in this call (or it was deleted meanwhile)."""
    found = find_by_uuid(ReviewerPoolEntry, entry_uuid)
    if found is None or found.call_id != call.id:
        return None
    return relock_pool_entry(found)


def relock_pool_entry(entry: ReviewerPoolEntry) -> ReviewerPoolEntry | None:
    """`entry` read again with its Reviewer row then itself locked; None if deleted meanwhile."""
    lock_rows(Reviewer, [entry.reviewer_id])
    fresh: ReviewerPoolEntry | None = locked(
        ReviewerPoolEntry.select().where(ReviewerPoolEntry.id == entry.id)
    ).first()
    return fresh


def lock_batch_of(item: AssignmentItem) -> AssignmentBatch:
    """The item's batch row, locked (the lock before the item's); NotFound("assignment item")
    if it was deleted meanwhile, with its items."""
    batch = locked(AssignmentBatch.select().where(AssignmentBatch.id == item.batch_id)).first()
    if batch is None:
        raise NotFound("assignment item")
    return batch


def lock_item(item_id: int) -> AssignmentItem:
    """The item row, locked and fresh; NotFound if it was deleted meanwhile."""
    item = locked(AssignmentItem.select().where(AssignmentItem.id == item_id)).first()
    if item is None:
        raise NotFound("assignment item")
    return item


def save_item(item: AssignmentItem, **values: object) -> None:
    """Set these fields on `item` and save it (the caller holds its lock)."""
    _save(item, values)


def save_batch(batch: AssignmentBatch, **values: Any) -> None:
    """Set these fields on `batch` and save it (the caller holds its lock)."""
    _save(batch, values)


def save_pool_entry(entry: ReviewerPoolEntry, **values: Any) -> None:
    """Set these fields on `entry` and save it (the caller holds its lock)."""
    _save(entry, values)


def _save(row: BaseModel, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
