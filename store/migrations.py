"""Schema migrations, applied in order, each once, under a lock so concurrent starts are safe.

A migration after the first must be written against the columns it finds (playhouse.migrate,
checking `database.get_columns`), because the first one creates tables from today's models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import CharField, DateTimeField, IntegerField, Model
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as playhouse_migrate

from store.base import BaseModel
from store.batches import AssignmentBatch, AssignmentItem, ItemConflict
from store.calls import Affinity, Call, CallManager, ConflictOfInterest, Proposal, ReviewerPoolEntry
from store.clock import utcnow
from store.db import database, is_sqlite
from store.fields import JSONField
from store.outbox import Notification
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


def _add_attribute_columns() -> None:
    """Call.attribute_constraints and Reviewer.attributes (issue #15), where missing."""
    migrator = SchemaMigrator.from_database(database)
    wanted = [
        (Call, "attribute_constraints", JSONField(default=list)),
        (Reviewer, "attributes", JSONField(default=dict)),
    ]
    operations = []
    for model, column, field in wanted:
        table = model._meta.table_name
        if column not in {c.name for c in database.get_columns(table)}:
            operations.append(migrator.add_column(table, column, field))
    if operations:
        playhouse_migrate(*operations)


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _create_initial_schema),
    Migration(3, "attribute constraints", _add_attribute_columns),
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
