"""Migration 5 on a database made before it (SQLite and PostgreSQL): the columns of a pool
invitation's answer and of a conflict decision are added to the rows already there, with
their defaults, and the rows keep their data."""

from __future__ import annotations

import uuid

from peewee import (
    CharField,
    Database,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    UUIDField,
)

from store import (
    Call,
    ConflictOfInterest,
    Notification,
    Proposal,
    Reviewer,
    ReviewerPoolEntry,
    User,
)
from store.base import BaseModel
from store.clock import utcnow
from store.db import database
from store.enums import DetectionMethod, InvitationStatus
from store.migrations import ALL_MODELS, SchemaMigration, drop_everything, migrate
from tests.factories import make_call, make_proposal, make_reviewer


class PoolEntryV1(BaseModel):
    """reviewer_pool_entry as version 1 created it."""

    call = ForeignKeyField(Call, on_delete="CASCADE")
    reviewer = ForeignKeyField(Reviewer, on_delete="CASCADE")
    max_assignments = IntegerField(default=5)
    invitation_status = CharField(max_length=32, default="pending")

    class Meta:
        table_name = "reviewer_pool_entry"


class ConflictV1(BaseModel):
    """conflict_of_interest as version 1 created it."""

    call = ForeignKeyField(Call, on_delete="CASCADE")
    reviewer = ForeignKeyField(Reviewer, on_delete="CASCADE")
    proposal = ForeignKeyField(Proposal, on_delete="CASCADE")
    coi_type = CharField(max_length=64, default="")
    severity = CharField(max_length=32, default="real")
    status = CharField(max_length=32, default="pending")
    evidence = TextField(default="")

    class Meta:
        table_name = "conflict_of_interest"


def test_version_5_adds_its_columns_to_an_older_schema(db: Database) -> None:
    drop_everything()
    old = [PoolEntryV1, ConflictV1]
    database.create_tables([User, Call, Reviewer, Proposal, *old])
    rest = [m for m in ALL_MODELS if m not in (ReviewerPoolEntry, ConflictOfInterest)]
    database.create_tables([SchemaMigration, *rest])
    SchemaMigration.create(version=1, name="initial schema")
    call = make_call()
    reviewer = make_reviewer()
    entry = PoolEntryV1.create(call=call.id, reviewer=reviewer.id)
    coi = ConflictV1.create(call=call.id, reviewer=reviewer.id, proposal=make_proposal(call).id)

    assert migrate() == [
        "message outbox",
        "attribute constraints",
        "pool answers and conflict decisions",
        "notification request id",
    ]
    fresh_entry = ReviewerPoolEntry.get_by_id(entry.id)
    assert (fresh_entry.decline_reason, fresh_entry.response_date) == ("", None)
    assert (fresh_entry.invitation_status, fresh_entry.invited_by_id) == (
        InvitationStatus.PENDING,
        None,
    )
    fresh_coi = ConflictOfInterest.get_by_id(coi.id)
    assert fresh_coi.detection_method == DetectionMethod.AUTOMATED
    assert (fresh_coi.review_notes, fresh_coi.management_plan, fresh_coi.reviewed_by_id) == (
        "",
        "",
        None,
    )
    # the new columns take writes, the foreign keys included
    ReviewerPoolEntry.update(decline_reason="Busy", invited_by=None).execute()
    assert ReviewerPoolEntry.get_by_id(entry.id).decline_reason == "Busy"
    assert migrate() == []


class NotificationV5(Model):
    """The outbox table as versions 1 to 5 made it: no request id."""

    kind = CharField()
    recipient = CharField()
    recipient_name = CharField(default="")
    subject = CharField()
    text_body = TextField()
    html_body = TextField()
    dedupe_key = CharField(unique=True)
    status = CharField(default="pending")
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    next_attempt_at = DateTimeField(null=True)
    uuid = UUIDField(unique=True, default=uuid.uuid4)
    created = DateTimeField(default=utcnow)
    modified = DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "notification"


def test_version_6_adds_the_request_id_to_an_older_outbox(db: Database) -> None:
    drop_everything()
    database.create_tables([NotificationV5, SchemaMigration])
    database.create_tables([m for m in ALL_MODELS if m is not Notification])
    done = ((1, "initial schema"), (2, "message outbox"), (3, "attributes"), (5, "pool"))
    for version, name in done:
        SchemaMigration.create(version=version, name=name)
    NotificationV5.create(kind="invitation", recipient="a@b.org", subject="s", text_body="t",
                          html_body="h", dedupe_key="old")  # fmt: skip

    assert migrate() == ["notification request id"]
    assert Notification.get(Notification.dedupe_key == "old").request_id is None
    assert migrate() == []
