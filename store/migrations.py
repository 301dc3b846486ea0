"""Schema migrations, applied in order, each once, under a lock so concurrent starts are safe.

A migration after the first must be written against the columns it finds (playhouse.migrate,
checking `database.get_columns`), because the first one creates tables from today's models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from peewee import CharField, DateTimeField, IntegerField, Model
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as playhouse_migrate

from store.base import BaseModel
from store.batches import AssignmentBatch, AssignmentItem, ItemConflict
from store.calls import Affinity, Call, CallManager, ConflictOfInterest, Proposal, ReviewerPoolEntry
from store.clock import utcnow
from store.db import database, is_sqlite
from store.outbox import Notification, OutboundMessage
from store.people import Reviewer, User
from store.requests import AssignmentRequest
from store.reviews import Review, RoundRobinCursor

ALL_MODELS: list[type[BaseModel]] = [
    User,
    Reviewer,
    Call,
    CallManager,
    Proposal,
    ReviewerPoolEntry,
    ConflictOfInterest,
    Affinity,
    Review,
    RoundRobinCursor,
    AssignmentBatch,
    AssignmentItem,
    ItemConflict,
    AssignmentRequest,
    Notification,
    OutboundMessage,
]

# An arbitrary constant: the PostgreSQL advisory lock that serialises migrators.
MIGRATION_LOCK_ID = 7_316_402


class SchemaMigration(Model):
    version = IntegerField(primary_key=True)
    name = CharField(max_length=200)
    applied_at = DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "schema_migration"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[], None]


def _create_initial_schema() -> None:
    database.create_tables(ALL_MODELS, safe=True)


def _create_message_outbox() -> None:
    # A database made by migration 1 before the table existed lacks it; a newer one has it.
    database.create_tables([OutboundMessage], safe=True)


def _add_missing_columns(model: type[BaseModel], names: Sequence[str]) -> None:
    """Add these fields of `model` to its table where the table lacks them."""
    table = model._meta.table_name
    present = {column.name for column in database.get_columns(table)}
    migrator = SchemaMigrator.from_database(database)
    for name in names:
        field = model._meta.fields[name]
        if field.column_name not in present:
            playhouse_migrate(migrator.add_column(table, field.column_name, field))


def _pool_answers_and_conflict_decisions() -> None:
    """Version 5 (#11): a pool invitation's answer and inviter; a conflict decision's author,
    time, notes and management plan."""
    _add_missing_columns(ReviewerPoolEntry, ["response_date", "decline_reason", "invited_by"])
    _add_missing_columns(
        ConflictOfInterest,
        ["detection_method", "reviewed_by", "reviewed_at", "review_notes", "management_plan"],
    )


def _notification_request_id() -> None:
    """Version 6 (#13): the request id an outbox row was written for."""
    _add_missing_columns(Notification, ["request_id"])


def _add_attribute_columns() -> None:
    """Version 3 (#15): Call.attribute_constraints and Reviewer.attributes, where missing."""
    _add_missing_columns(Call, ["attribute_constraints"])
    _add_missing_columns(Reviewer, ["attributes"])


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _create_initial_schema),
    Migration(2, "message outbox", _create_message_outbox),
    Migration(3, "attribute constraints", _add_attribute_columns),
    Migration(5, "pool answers and conflict decisions", _pool_answers_and_conflict_decisions),
    Migration(6, "notification request id", _notification_request_id),
]


def migrate() -> list[str]:
    """Apply every migration not yet applied; return the names of those applied now."""
    database.create_tables([SchemaMigration], safe=True)
    applied_now: list[str] = []
    with database.atomic("IMMEDIATE") if is_sqlite() else database.atomic():
        if not is_sqlite():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
        done = {row.version for row in SchemaMigration.select(SchemaMigration.version)}
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            migration.apply()
            SchemaMigration.create(version=migration.version, name=migration.name)
            applied_now.append(migration.name)
    return applied_now


def schema_version() -> int:
    """The highest migration applied, 0 for an empty database."""
    if not database.table_exists(SchemaMigration._meta.table_name):
        return 0
    row = SchemaMigration.select().order_by(SchemaMigration.version.desc()).first()
    return row.version if row else 0


def drop_everything() -> None:
    """Drop every table (tests and `demo --fresh` only)."""
    database.drop_tables([*ALL_MODELS, SchemaMigration], safe=True, cascade=not is_sqlite())
