"""`load_data`: validate a whole data file, then upsert it in one transaction, or write nothing.

Records are matched to existing rows by external id (else uuid; a user also by username), and
pool entries, conflicts and affinities by their natural keys, so loading a file twice changes
nothing. A field left out of a record keeps its stored value on update, its default on create.
A call's `managers`, when given, become exactly its managers. A stored review that is no longer
unassigned keeps its reviewer, state and assigned_at: once work has started those change only
through the assignment flows, so reloading an old file cannot undo assignments.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peewee import IntegrityError, Model

from store import CallManager, Review, write_transaction
from store.clock import to_naive_utc, utcnow
from store.enums import ReviewState
from tasks.errors import DataFileError, RecordError
from tasks.imports.data_file import (
    ARRAYS,
    AffinityRecord,
    CallRecord,
    ConflictRecord,
    DataFile,
    IdentifiedRecord,
    Indexed,
    Record,
    UserRecord,
    parse_document,
)
from tasks.imports.plan import CHUNK, MODELS, NATURAL_KEYS, LoadPlan, chunks, plan_load
from tasks.users import hash_token

__all__ = ["ArrayCounts", "DataFileError", "LoadReport", "RecordError", "load_data"]

NOT_COLUMNS = {"uuid", "token", "config", "managers"}
ASSIGNMENT_COLUMNS = ("reviewer", "state", "assigned_at")
MAX_BOUND_PARAMETERS = 8000  # well below SQLite's limit (32766)


@dataclass
class ArrayCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class LoadReport:
    """What a load did, per array present in the file, in write order."""

    counts: dict[str, ArrayCounts] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts.values())


@dataclass
class _Row:
    """One record as the columns of its table, and what became of it."""

    index: int
    columns: dict[str, Any]  # every column: what a create writes
    given: set[str]  # the columns the file sets: what an update compares and writes
    new_uuid: uuid.UUID | None = None
    existing: Model | None = None
    id: int | None = None
    status: str = "unchanged"


def load_data(
    document: dict[str, Any], *, on_stage: Callable[[str], None] | None = None
) -> LoadReport:
    """Load a data file (interfaces.md) into the store, all or nothing.

    Raises DataFileError naming every bad record (array, index, field) and writes nothing if any
    record is invalid or refers to something neither the file nor the store holds. Otherwise
    upserts every record in one transaction; loading the same document again changes nothing.
    `on_stage` is told what the load is doing, for a progress display.
    """
    started = time.monotonic()
    stage = on_stage or (lambda _: None)
    stage("validating records")
    parsed, errors = parse_document(document)
    try:
        with write_transaction():
            stage("checking references")
            plan = plan_load(parsed)
            if errors or plan.errors:
                raise DataFileError(_in_file_order(errors + plan.errors))
            report = _write(parsed, plan, set(document), stage)
    except IntegrityError as exc:  # a row written concurrently: nothing of ours is kept
        raise DataFileError([RecordError("", None, "", f"conflicting data: {exc}")]) from exc
    report.seconds = time.monotonic() - started
    return report


def _in_file_order(errors: list[RecordError]) -> list[RecordError]:
    order = {name: i for i, name in enumerate(ARRAYS)}
    return sorted(errors, key=lambda e: (order.get(e.array, -1), e.index or 0))


def _write(
    parsed: DataFile, plan: LoadPlan, arrays: set[str], stage: Callable[[str], None]
) -> LoadReport:
    report = LoadReport()
    for array in (a for a in ARRAYS if a in arrays):
        records: list[Indexed[Record]] = getattr(parsed, array)
        stage(f"writing {array} ({len(records)})")
        rows = [_row(array, index, record, plan) for index, record in records]
        _match_rows(array, rows, plan)
        _upsert(MODELS[array], rows)
        if array in plan.catalogs:
            keys = plan.record_keys[array]
            plan.catalogs[array].learn({keys[r.index]: r.id for r in rows if r.id is not None})
        if array == "calls":
            _sync_managers(parsed.calls, rows, plan)
        report.counts[array] = _count(rows)
    return report


def _count(rows: list[_Row]) -> ArrayCounts:
    counts = ArrayCounts()
    for row in rows:
        setattr(counts, row.status, getattr(counts, row.status) + 1)
    return counts


def _row(array: str, index: int, record: Record, plan: LoadPlan) -> _Row:
    columns = record.model_dump(exclude=NOT_COLUMNS)
    given = set(record.model_fields_set) - NOT_COLUMNS
    for name, kind in plan.references(array):
        token = columns.get(name)
        columns[name] = None if token is None else plan.catalogs[kind].id_of(token)
    if isinstance(record, ConflictRecord | AffinityRecord):  # the call is the proposal's
        columns["call"] = plan.call_id_of_proposal(record.proposal)
        given.add("call")
    for name, value in columns.items():
        if isinstance(value, datetime):
            columns[name] = to_naive_utc(value)
    if isinstance(record, UserRecord) and record.token is not None:
        columns["token_hash"] = hash_token(record.token)
        given.add("token_hash")
    if isinstance(record, CallRecord):
        columns.update(record.config.model_dump())
        if "config" in record.model_fields_set:
            given |= record.config.model_fields_set
    new_uuid = record.uuid if isinstance(record, IdentifiedRecord) else None
    return _Row(index, columns, given, new_uuid)


def _match_rows(array: str, rows: list[_Row], plan: LoadPlan) -> None:
    if array not in NATURAL_KEYS:
        matched = plan.existing[array]
        for row in rows:
            row.existing = matched.get(row.index)
        return
    names = NATURAL_KEYS[array]
    existing = _existing_by_natural_key(MODELS[array], names, rows)
    for row in rows:
        row.existing = existing.get(tuple(row.columns[n] for n in names))


def _existing_by_natural_key(
    model: type[Model], names: Sequence[str], rows: list[_Row]
) -> dict[tuple[Any, ...], Model]:
    scope = names[0]  # a call or a proposal: few of them hold all the rows the file names
    values = sorted({row.columns[scope] for row in rows})
    found: dict[tuple[Any, ...], Model] = {}
    for chunk in chunks(values, CHUNK):
        for existing in model.select().where(getattr(model, scope).in_(list(chunk))):
            found[tuple(existing.__data__[n] for n in names)] = existing
    return found


def _upsert(model: type[Model], rows: list[_Row]) -> None:
    """Update changed rows, insert new ones in bulk; set each row's id and status."""
    now = utcnow()
    for row in rows:
        if row.existing is None:
            continue
        row.id = row.existing.id
        changes = _changes(row, now)
        if changes:
            model.update(**changes, modified=now).where(model.id == row.id).execute()
            row.status = "updated"
    _insert(model, [row for row in rows if row.existing is None], now)


def _changes(row: _Row, now: datetime) -> dict[str, Any]:
    assert row.existing is not None
    stored = row.existing.__data__
    changes = {n: row.columns[n] for n in row.given if not _same(stored.get(n), row.columns[n])}
    if not isinstance(row.existing, Review):
        return changes
    if row.existing.state != ReviewState.UNASSIGNED:
        for name in ASSIGNMENT_COLUMNS:  # moved on through the assignment flows: theirs now
            changes.pop(name, None)
    elif "reviewer" in changes and "assigned_at" not in row.given:
        changes["assigned_at"] = now if changes["reviewer"] is not None else None
    return changes


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, float) and isinstance(wanted, float | int):
        return abs(stored - wanted) <= 1e-6 * max(1.0, abs(wanted))  # REAL on PostgreSQL
    return bool(stored == wanted)


def _insert(model: type[Model], rows: list[_Row], now: datetime) -> None:
    by_uuid: dict[uuid.UUID, _Row] = {}
    for row in rows:
        row_uuid = row.new_uuid or uuid.uuid4()
        row.columns.update(uuid=row_uuid, created=now, modified=now)
        if model is Review and row.columns.get("reviewer") and "assigned_at" not in row.given:
            row.columns["assigned_at"] = now
        by_uuid[row_uuid] = row
        row.status = "created"
    if not rows:
        return
    per_statement = max(1, MAX_BOUND_PARAMETERS // len(rows[0].columns))
    for chunk in chunks(rows, per_statement):
        model.insert_many([row.columns for row in chunk]).execute()
    for uuids in chunks(list(by_uuid), CHUNK):
        query = model.select(model.id, model.uuid).where(model.uuid.in_(list(uuids)))
        for row_id, row_uuid in query.tuples():
            by_uuid[row_uuid].id = row_id


def _sync_managers(calls: list[Indexed[CallRecord]], rows: list[_Row], plan: LoadPlan) -> None:
    """Make each call's managers exactly those its record lists, when it lists them."""
    row_of = {row.index: row for row in rows}
    users = plan.catalogs["users"]
    for index, record in calls:
        if "managers" not in record.model_fields_set:
            continue
        row = row_of[index]
        wanted = {users.id_of(token) for token in record.managers}
        links = CallManager.select().where(CallManager.call == row.id)
        have = {link.user_id: link.id for link in links}
        stale = [link_id for user_id, link_id in have.items() if user_id not in wanted]
        if stale:
            CallManager.delete().where(CallManager.id.in_(stale)).execute()
        missing = sorted(wanted - set(have))
        if missing:
            CallManager.insert_many([{"call": row.id, "user": uid} for uid in missing]).execute()
        if (stale or missing) and row.status == "unchanged":
            row.status = "updated"
