"""The data file of `reviewq load` (interfaces.md): its records, their validation, its readers.

A data file is one JSON document, or a directory of CSV files (`users.csv`, `reviewers.csv`, ...)
with the same columns, holding any of the arrays of `ARRAYS`. Validation is strict: every record is
validated as JSON, so `"5"` is not an integer and `1` is not `true`; unknown fields are errors.

CSV cells: an empty cell means the field is absent (its default on create, unchanged on update).
A list column (`keywords`, `managers`, `expertise`) holds either a JSON array (the cell starts
with `[`) or `;`-separated values, an expertise value written `keyword:proficiency`. An object
column (`config`) holds a JSON object. Booleans are `true`/`false` (also `1`/`0`, `yes`/`no`).
A CSV record's index is its data row, counted from 0 (the line below the header is index 0).
"""

from __future__ import annotations

import csv
import json
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from store.enums import (
    AffinitySource,
    Algorithm,
    CallState,
    CoiSeverity,
    CoiStatus,
    Disclosure,
    InvitationStatus,
    Priority,
    Proficiency,
    ProposalState,
    ReviewState,
)
from tasks.errors import DataFileError, RecordError
from tasks.mail.outbox import check_email

T = TypeVar("T")
Indexed = tuple[int, T]  # a record with its index in its array


def _check_optional_email(value: str) -> str:
    return check_email(value) if value else value


Ref = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(max_length=320), AfterValidator(check_email)]
OptionalEmail = Annotated[str, Field(max_length=320), AfterValidator(_check_optional_email)]
Name = Annotated[str, Field(min_length=1, max_length=300)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class Record(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class IdentifiedRecord(Record):
    """A record other records refer to: by its external id, else by its uuid."""

    external_id: Ref | None = None
    uuid: UUID | None = None

    @property
    def identity(self) -> str:
        return self.external_id or str(self.uuid)


class UserRecord(IdentifiedRecord):
    username: Annotated[str, Field(min_length=1, max_length=150)]
    email: OptionalEmail = ""
    full_name: Annotated[str, Field(max_length=300)] = ""
    is_staff: bool = False
    token: Annotated[str, Field(min_length=32, max_length=512)] | None = None

    @property
    def identity(self) -> str:
        return self.external_id or (str(self.uuid) if self.uuid else self.username)


class ExpertiseEntry(Record):
    keyword: Annotated[str, Field(min_length=1, max_length=200)]
    proficiency: Proficiency


class ReviewerRecord(IdentifiedRecord):
    name: Name
    email: Email
    organization: Annotated[str, Field(max_length=300)] = ""
    expertise: list[ExpertiseEntry] = []
    biography: str = ""
    available_for_reviews: bool = True
    user: Ref | None = None


class CallConfig(Record):
    """domain.md's call configuration, with its defaults."""

    reviewers_per_proposal: Annotated[int, Field(ge=1, le=100)] = 3
    assignment_expiration_days: Annotated[int, Field(ge=1, le=365)] = 7
    send_reminder_before_expiry_days: Annotated[int, Field(ge=0, le=365)] = 2
    auto_reassign_on_decline: bool = False
    max_auto_reassign_attempts: Annotated[int, Field(ge=0, le=100)] = 3
    algorithm: Algorithm = Algorithm.OPTIMAL
    min_affinity_threshold: Score = 0.0
    proposal_disclosure: Disclosure = Disclosure.TITLES_ONLY


class CallRecord(IdentifiedRecord):
    name: Name
    description: str = ""
    state: CallState = CallState.ACTIVE
    managers: list[Ref] = []
    config: CallConfig = CallConfig()


class ProposalRecord(IdentifiedRecord):
    call: Ref
    name: Annotated[str, Field(min_length=1, max_length=500)]
    slug: Annotated[str, Field(max_length=200)] = ""
    summary: str = ""
    keywords: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    organization: Annotated[str, Field(max_length=300)] = ""
    state: ProposalState = ProposalState.SUBMITTED


class PoolRecord(Record):
    call: Ref
    reviewer: Ref
    max_assignments: Annotated[int, Field(ge=0, le=10_000)] = 5
    invitation_status: InvitationStatus = InvitationStatus.PENDING


class ConflictRecord(Record):
    """`call` may be left out: it is then the proposal's call."""

    call: Ref | None = None
    reviewer: Ref
    proposal: Ref
    coi_type: Annotated[str, Field(max_length=64)] = ""
    severity: CoiSeverity = CoiSeverity.REAL
    status: CoiStatus = CoiStatus.PENDING
    evidence: str = ""


class AffinityRecord(Record):
    """`call` may be left out: it is then the proposal's call."""

    call: Ref | None = None
    reviewer: Ref
    proposal: Ref
    score: Score
    source: AffinitySource = AffinitySource.IMPORTED


class ReviewRecord(IdentifiedRecord):
    proposal: Ref
    priority: Priority = Priority.NORMAL
    deadline: datetime | None = None
    reviewer: Ref | None = None
    state: ReviewState = ReviewState.UNASSIGNED
    assigned_at: datetime | None = None


RECORD_MODELS: dict[str, type[Record]] = {
    "users": UserRecord,
    "reviewers": ReviewerRecord,
    "calls": CallRecord,
    "proposals": ProposalRecord,
    "pool": PoolRecord,
    "conflicts": ConflictRecord,
    "affinities": AffinityRecord,
    "reviews": ReviewRecord,
}
ARRAYS = tuple(RECORD_MODELS)  # also the order in which they are written


@dataclass(frozen=True)
class InvalidRecord:
    """A record that failed record-level validation, kept so that one pass reports everything:
    its identities still name a record (so references to it are not "unknown"), and the
    references it makes are still checked."""

    array: str
    index: int
    raw: dict[str, Any]

    def text(self, name: str) -> str | None:
        """The field `name` when it is a non-empty string, else None."""
        value = self.raw.get(name)
        return value if isinstance(value, str) and value else None

    def texts(self, name: str) -> list[tuple[int, str]]:
        """The non-empty strings of the list field `name`, with their positions."""
        value = self.raw.get(name)
        if not isinstance(value, list):
            return []
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str) and v]


@dataclass
class DataFile:
    """The records of a data file that passed record-level validation, with their indexes,
    and those that did not (`invalid`)."""

    users: list[Indexed[UserRecord]] = field(default_factory=list)
    reviewers: list[Indexed[ReviewerRecord]] = field(default_factory=list)
    calls: list[Indexed[CallRecord]] = field(default_factory=list)
    proposals: list[Indexed[ProposalRecord]] = field(default_factory=list)
    pool: list[Indexed[PoolRecord]] = field(default_factory=list)
    conflicts: list[Indexed[ConflictRecord]] = field(default_factory=list)
    affinities: list[Indexed[AffinityRecord]] = field(default_factory=list)
    reviews: list[Indexed[ReviewRecord]] = field(default_factory=list)
    invalid: list[InvalidRecord] = field(default_factory=list)


def parse_document(document: Any) -> tuple[DataFile, list[RecordError]]:
    """Validate every record on its own; return the valid ones and an error per bad field.

    Checks shapes, types, ranges and enums, the rules between fields of one record, and
    duplicate identities within an array. References between records are checked by the loader.
    """
    parsed = DataFile()
    if not isinstance(document, dict):
        return parsed, [RecordError("", None, "", "the data file must be a JSON object")]
    errors = [
        RecordError(str(name), None, "", f"unknown array; expected any of {', '.join(ARRAYS)}")
        for name in document
        if name not in RECORD_MODELS
    ]
    for array, model in RECORD_MODELS.items():
        items = document.get(array, [])
        if not isinstance(items, list):
            errors.append(RecordError(array, None, "", "must be an array"))
            continue
        valid = getattr(parsed, array)
        for index, item in enumerate(items):
            record, problems = _validate_record(array, model, index, item)
            errors += problems
            if record is not None:
                valid.append((index, record))
            elif isinstance(item, dict):
                parsed.invalid.append(InvalidRecord(array, index, item))
        errors += _duplicate_identities(array, valid)
    return parsed, errors


def _validate_record(
    array: str, model: type[Record], index: int, item: Any
) -> tuple[Record | None, list[RecordError]]:
    try:
        record = model.model_validate_json(json.dumps(item, default=_json_default))
    except ValidationError as exc:
        return None, [
            RecordError(array, index, _field_path(err["loc"]), err["msg"]) for err in exc.errors()
        ]
    problems = [RecordError(array, index, f, m) for f, m in _record_rules(record)]
    return (None if problems else record), problems


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _record_rules(record: Record) -> list[tuple[str, str]]:
    """The rules between fields of one record that pydantic's types do not say."""
    problems = []
    if (
        isinstance(record, IdentifiedRecord)
        and not isinstance(record, UserRecord)
        and record.external_id is None
        and record.uuid is None
    ):
        problems.append(("external_id", "external_id or uuid is required"))
    if isinstance(record, ReviewRecord):
        if record.state == ReviewState.UNASSIGNED and record.reviewer is not None:
            problems.append(("reviewer", "an unassigned review has no reviewer"))
        if record.state != ReviewState.UNASSIGNED and record.reviewer is None:
            problems.append(("reviewer", f"a review in state {record.state.value} needs one"))
    return problems


def _duplicate_identities(array: str, records: list[Indexed[Any]]) -> list[RecordError]:
    errors: list[RecordError] = []
    for name in ("external_id", "uuid", "username"):
        first: dict[Any, int] = {}
        for index, record in records:
            value = getattr(record, name, None)
            if value is None:
                continue
            if value in first:
                message = f"{value} is also {array}[{first[value]}]"
                errors.append(RecordError(array, index, name, message))
            first.setdefault(value, index)
    return errors


def read_data_file(path: Path) -> dict[str, Any]:
    """The document at `path`: a JSON file, or a directory of CSV files named after arrays."""
    if path.is_dir():
        return read_csv_directory(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError([RecordError("", None, "", f"cannot read {path}: {exc}")]) from exc
    except json.JSONDecodeError as exc:
        raise DataFileError([RecordError("", None, "", f"{path}: not JSON: {exc}")]) from exc
    if not isinstance(document, dict):
        raise DataFileError([RecordError("", None, "", f"{path}: must hold a JSON object")])
    return document


def read_csv_directory(directory: Path) -> dict[str, Any]:
    """One array per `<array>.csv` in `directory`, each cell typed by its column (module doc)."""
    document: dict[str, Any] = {}
    for path in sorted(directory.glob("*.csv")):
        model = RECORD_MODELS.get(path.stem)
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        document[path.stem] = [_typed_row(model, row) for row in rows]
    return document


def _typed_row(model: type[Record] | None, row: dict[str | Any, Any]) -> dict[str, Any]:
    typed = {}
    for column, text in row.items():
        if column is None or text is None or text.strip() == "":
            continue  # a cell left empty, or beyond the header (csv names those None)
        info = model.model_fields.get(column) if model else None
        typed[column] = _cell(info.annotation if info else str, text.strip())
    return typed


def _cell(annotation: Any, text: str) -> Any:
    kind = _without_none(annotation)
    if get_origin(kind) is list:
        return _list_cell(get_args(kind)[0], text)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return _json_or_text(text)
    if kind is bool:
        return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(
            text.lower(), text
        )
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            return text  # left for the validator to name
    return text


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _list_cell(item_type: Any, text: str) -> Any:
    if text.startswith("["):
        return _json_or_text(text)
    values = [v.strip() for v in text.split(";") if v.strip()]
    if item_type is ExpertiseEntry:
        return [_expertise_value(v) for v in values]
    return values


def _expertise_value(value: str) -> dict[str, str]:
    keyword, colon, proficiency = value.rpartition(":")
    if not colon:
        return {"keyword": value}  # the validator names the missing proficiency
    return {"keyword": keyword.strip(), "proficiency": proficiency.strip()}


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def write_csv_directory(document: dict[str, Any], directory: Path) -> list[Path]:
    """The CSV form of `document` (module doc): one `<array>.csv` per non-empty array, that
    `read_csv_directory` reads back to the same records. Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for array, model in RECORD_MODELS.items():
        records: list[dict[str, Any]] = document.get(array) or []
        if not records:
            continue
        present = {name for record in records for name in record}
        columns = [name for name in model.model_fields if name in present]
        path = directory / f"{array}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for record in records:
                writer.writerow({name: _cell_text(record.get(name)) for name in columns})
        written.append(path)
    return written


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if all(isinstance(v, str) and ";" not in v and not v.startswith("[") for v in value):
            return ";".join(value)
        if all(isinstance(v, dict) and set(v) == {"keyword", "proficiency"} for v in value):
            parts = [f"{v['keyword']}:{v['proficiency']}" for v in value]
            if all(";" not in part for part in parts):
                return ";".join(parts)
        return json.dumps(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
