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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from peewee import IntegrityError, Model

from store import (
    Affinity,
    Call,
    CallManager,
    ConflictOfInterest,
    ExternalModel,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
    write_transaction,
)
from store.clock import to_naive_utc, utcnow
from store.enums import ReviewState
from store.lookups import resolve_ids
from tasks.data_file import (
    ARRAYS,
    AffinityRecord,
    CallRecord,
    ConflictRecord,
    DataFile,
    DataFileError,
    IdentifiedRecord,
    Indexed,
    PoolRecord,
    Record,
    RecordError,
    UserRecord,
    parse_document,
)
from tasks.users import hash_token

__all__ = ["ArrayCounts", "DataFileError", "LoadReport", "RecordError", "load_data"]

T = TypeVar("T")
MODELS: dict[str, type[Model]] = {
    "users": User,
    "reviewers": Reviewer,
    "calls": Call,
    "proposals": Proposal,
    "pool": ReviewerPoolEntry,
    "conflicts": ConflictOfInterest,
    "affinities": Affinity,
    "reviews": Review,
}
NATURAL_KEYS = {
    "pool": ("call", "reviewer"),
    "conflicts": ("call", "reviewer", "proposal", "coi_type"),
    "affinities": ("proposal", "reviewer"),
}
NOT_COLUMNS = {"uuid", "token", "config", "managers"}
ASSIGNMENT_COLUMNS = ("reviewer", "state", "assigned_at")
CHUNK = 500
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
    for chunk in _chunks(values, CHUNK):
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
    for chunk in _chunks(rows, per_statement):
        model.insert_many([row.columns for row in chunk]).execute()
    for uuids in _chunks(list(by_uuid), CHUNK):
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


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Validation against the store: identities, references, natural keys.

REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "reviewers": (("user", "users"),),
    "proposals": (("call", "calls"),),
    "pool": (("call", "calls"), ("reviewer", "reviewers")),
    "conflicts": (("call", "calls"), ("reviewer", "reviewers"), ("proposal", "proposals")),
    "affinities": (("call", "calls"), ("reviewer", "reviewers"), ("proposal", "proposals")),
    "reviews": (("proposal", "proposals"), ("reviewer", "reviewers")),
}
SINGULAR = {"users": "user", "reviewers": "reviewer", "calls": "call", "proposals": "proposal"}


class Catalog:
    """Every token a file uses for one kind of record, each mapped to a canonical key.

    The key is `d:<id>` for a row the store holds and `f:<identity>` for one the file creates,
    so that the tokens naming one record (its external id, its uuid) share one key.
    """

    def __init__(self, model: type[ExternalModel]) -> None:
        self.model = model
        self.keys: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def add(self, tokens: Iterable[str | None], key: str, row_id: int | None) -> None:
        for token in tokens:
            if token:
                self.keys.setdefault(token, key)
        if row_id is not None:
            self.ids[key] = row_id

    def resolve(self, tokens: set[str]) -> set[str]:
        """Find in the store the tokens the file does not define; return those nowhere."""
        unknown = sorted(t for t in tokens if t not in self.keys)
        found, missing = resolve_ids(self.model, unknown)
        for token, row in {**found, **self._by_username(missing)}.items():
            self.add([token], f"d:{row.id}", row.id)
        return {t for t in missing if t not in self.keys}

    def _by_username(self, tokens: list[str]) -> dict[str, ExternalModel]:
        if self.model is not User:
            return {}
        return {
            user.username: user
            for chunk in _chunks(tokens, CHUNK)
            for user in User.select().where(User.username.in_(list(chunk)))
        }

    def key_of(self, token: str | None) -> str | None:
        return self.keys.get(token) if token else None

    def id_of(self, token: str) -> int:
        return self.ids[self.keys[token]]

    def learn(self, ids: dict[str, int]) -> None:
        self.ids.update(ids)


@dataclass
class LoadPlan:
    """What validation against the store found: matched rows, canonical keys, errors."""

    catalogs: dict[str, Catalog]
    existing: dict[str, dict[int, Model]] = field(default_factory=dict)
    record_keys: dict[str, dict[int, str]] = field(default_factory=dict)
    proposal_calls: dict[str, str] = field(default_factory=dict)  # proposal key -> call key
    errors: list[RecordError] = field(default_factory=list)

    def references(self, array: str) -> tuple[tuple[str, str], ...]:
        return REFERENCES.get(array, ())

    def call_id_of_proposal(self, token: str) -> int:
        proposal_key = self.catalogs["proposals"].keys[token]
        return self.catalogs["calls"].ids[self.proposal_calls[proposal_key]]

    def natural_key(self, array: str, record: Any) -> tuple[Any, ...] | None:
        reviewer = self.catalogs["reviewers"].key_of(record.reviewer)
        if array == "pool":
            key: tuple[Any, ...] = (self.catalogs["calls"].key_of(record.call), reviewer)
            return None if None in key else key
        proposal = self.catalogs["proposals"].key_of(record.proposal)
        call = self.proposal_calls.get(proposal or "")
        if array == "conflicts":
            key = (call, reviewer, proposal, record.coi_type)
        else:
            key = (proposal, reviewer)
        return None if None in key else key


def plan_load(parsed: DataFile) -> LoadPlan:
    """Match the file's records to stored rows and check every reference; collect errors."""
    plan = LoadPlan({kind: Catalog(MODELS[kind]) for kind in SINGULAR})
    for array in ("users", "reviewers", "calls", "proposals", "reviews"):
        _register(plan, array, getattr(parsed, array))
    _resolve_references(plan, parsed)
    _check_proposal_calls(plan, parsed)
    _check_natural_keys(plan, parsed)
    return plan


def _register(plan: LoadPlan, array: str, records: list[Indexed[IdentifiedRecord]]) -> None:
    matched = _match_existing(plan, array, records)
    plan.existing[array] = matched
    keys: dict[int, str] = {}
    for index, record in records:
        row = matched.get(index)
        keys[index] = f"d:{row.id}" if row else f"f:{record.identity}"
        if array in plan.catalogs:
            tokens = [record.external_id, str(record.uuid) if record.uuid else None]
            tokens += [getattr(record, "username", None)]
            tokens += [row.external_id, str(row.uuid)] if row else []
            plan.catalogs[array].add(tokens, keys[index], row.id if row else None)
    plan.record_keys[array] = keys


def _match_existing(
    plan: LoadPlan, array: str, records: list[Indexed[IdentifiedRecord]]
) -> dict[int, Model]:
    model = MODELS[array]
    by_ext = _rows_by(model, "external_id", [r.external_id for _, r in records])
    by_uuid = _rows_by(model, "uuid", [r.uuid for _, r in records])
    by_name = _rows_by(model, "username", [getattr(r, "username", None) for _, r in records])
    matched: dict[int, Model] = {}
    claimed: dict[int, int] = {}
    for index, record in records:
        row = by_ext.get(record.external_id) or by_uuid.get(record.uuid)
        row = row or by_name.get(getattr(record, "username", None))
        if row is None:
            continue
        if row.id in claimed:
            message = f"names the same stored record as {array}[{claimed[row.id]}]"
            plan.errors.append(RecordError(array, index, "external_id", message))
        claimed[row.id] = index
        matched[index] = row
    if array == "users":
        plan.errors += _user_conflicts(cast(list[Indexed[UserRecord]], records), matched, by_name)
    return matched


def _rows_by(model: type[Model], column: str, values: list[Any]) -> dict[Any, Model]:
    wanted = sorted({v for v in values if v is not None}, key=str)
    if not wanted:
        return {}
    found: dict[Any, Model] = {}
    for chunk in _chunks(wanted, CHUNK):
        for row in model.select().where(getattr(model, column).in_(list(chunk))):
            found[getattr(row, column)] = row
    return found


def _user_conflicts(
    records: list[Indexed[UserRecord]], matched: dict[int, Model], by_name: dict[Any, Model]
) -> list[RecordError]:
    errors = []
    hashes = {hash_token(r.token): i for i, r in records if r.token is not None}
    holders = _rows_by(User, "token_hash", list(hashes))
    seen_hashes: dict[str, int] = {}
    for index, record in records:
        row = matched.get(index)
        other = by_name.get(record.username)
        if other is not None and (row is None or other.id != row.id):
            errors.append(RecordError("users", index, "username", "taken by another user"))
        if (
            row is not None
            and record.external_id
            and row.external_id not in (None, record.external_id)
        ):
            message = f"user {row.username!r} already has external id {row.external_id!r}"
            errors.append(RecordError("users", index, "external_id", message))
        if record.token is None:
            continue
        digest = hash_token(record.token)
        holder = holders.get(digest)
        if digest in seen_hashes or (holder is not None and (row is None or holder.id != row.id)):
            errors.append(RecordError("users", index, "token", "already used by another user"))
        seen_hashes[digest] = index
    return errors


def _resolve_references(plan: LoadPlan, parsed: DataFile) -> None:
    uses: dict[str, list[tuple[str, int, str, str]]] = {kind: [] for kind in SINGULAR}
    for array, references in REFERENCES.items():
        for index, record in getattr(parsed, array):
            for name, kind in references:
                if (token := getattr(record, name)) is not None:
                    uses[kind].append((array, index, name, token))
    for index, call in parsed.calls:
        uses["users"] += [("calls", index, f"managers.{i}", t) for i, t in enumerate(call.managers)]
    for kind, kind_uses in uses.items():
        missing = plan.catalogs[kind].resolve({use[3] for use in kind_uses})
        plan.errors += [
            RecordError(array, index, name, f"unknown {SINGULAR[kind]} {token!r}")
            for array, index, name, token in kind_uses
            if token in missing
        ]


def _check_proposal_calls(plan: LoadPlan, parsed: DataFile) -> None:
    """Learn each proposal's call; a conflict or affinity naming a call must name that one."""
    calls, proposals = plan.catalogs["calls"], plan.catalogs["proposals"]
    for index, proposal in parsed.proposals:
        if (call_key := calls.key_of(proposal.call)) is not None:
            plan.proposal_calls[plan.record_keys["proposals"][index]] = call_key
    stored = sorted(
        int(k[2:])
        for k in set(proposals.keys.values()) - set(plan.proposal_calls)
        if k.startswith("d:")
    )
    for chunk in _chunks(stored, CHUNK):
        query = Proposal.select(Proposal.id, Proposal.call).where(Proposal.id.in_(list(chunk)))
        for proposal_id, call_id in query.tuples():
            calls.add([], f"d:{call_id}", call_id)
            plan.proposal_calls[f"d:{proposal_id}"] = f"d:{call_id}"
    for array in ("conflicts", "affinities"):
        records: list[Indexed[ConflictRecord]] = getattr(parsed, array)
        for index, record in records:
            call_key = calls.key_of(record.call)
            proposal_key = proposals.key_of(record.proposal)
            known = plan.proposal_calls.get(proposal_key or "")
            if call_key and known and known != call_key:
                message = f"proposal {record.proposal!r} is not in call {record.call!r}"
                plan.errors.append(RecordError(array, index, "call", message))


def _check_natural_keys(plan: LoadPlan, parsed: DataFile) -> None:
    for array, names in NATURAL_KEYS.items():
        first: dict[tuple[Any, ...], int] = {}
        records: list[Indexed[PoolRecord]] = getattr(parsed, array)
        for index, record in records:
            key = plan.natural_key(array, record)
            if key is None:
                continue
            if key in first:
                message = f"same {', '.join(names)} as {array}[{first[key]}]"
                plan.errors.append(RecordError(array, index, "reviewer", message))
            first.setdefault(key, index)
