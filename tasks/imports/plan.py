"""`plan_load`: validate a data file against the store before anything is written.

Matches the file's records to stored rows (by external id, else uuid; a user also by username),
maps every token the file uses to one canonical key per record, and checks every reference and
natural key, collecting an error per bad record rather than stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from peewee import Model

from store import (
    Affinity,
    Call,
    ConflictOfInterest,
    ExternalModel,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.lookups import resolve_ids
from tasks.errors import RecordError
from tasks.imports.data_file import (
    ConflictRecord,
    DataFile,
    IdentifiedRecord,
    Indexed,
    InvalidRecord,
    PoolRecord,
    UserRecord,
)
from tasks.users import hash_token

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
CHUNK = 500

REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "reviewers": (("user", "users"),),
    "proposals": (("call", "calls"),),
    "pool": (("call", "calls"), ("reviewer", "reviewers")),
    "conflicts": (("call", "calls"), ("reviewer", "reviewers"), ("proposal", "proposals")),
    "affinities": (("call", "calls"), ("reviewer", "reviewers"), ("proposal", "proposals")),
    "reviews": (("proposal", "proposals"), ("reviewer", "reviewers")),
}
SINGULAR = {"users": "user", "reviewers": "reviewer", "calls": "call", "proposals": "proposal"}


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
            for chunk in chunks(tokens, CHUNK)
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
    _register_invalid(plan, parsed.invalid)
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


def _register_invalid(plan: LoadPlan, invalid: list[InvalidRecord]) -> None:
    """The identities of records that failed validation still name a record of the file."""
    for record in invalid:
        if record.array in plan.catalogs:
            tokens = [record.text(name) for name in ("external_id", "uuid", "username")]
            plan.catalogs[record.array].add(tokens, f"x:{record.array}[{record.index}]", None)


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
    for chunk in chunks(wanted, CHUNK):
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
    for bad in parsed.invalid:
        for name, kind in REFERENCES.get(bad.array, ()):
            if (text := bad.text(name)) is not None:
                uses[kind].append((bad.array, bad.index, name, text))
        if bad.array == "calls":
            uses["users"] += [
                ("calls", bad.index, f"managers.{i}", t) for i, t in bad.texts("managers")
            ]
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
    for chunk in chunks(stored, CHUNK):
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
