"""Assignment batches (one invitation to one reviewer) and their items (one proposal each)."""

from __future__ import annotations

from peewee import (
    BooleanField,
    DateTimeField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from store.base import BaseModel
from store.calls import Call, ConflictOfInterest, Proposal, ReviewerPoolEntry
from store.enums import BatchSource, BatchStatus, ItemStatus
from store.fields import EnumField
from store.people import User
from store.reviews import Review


class AssignmentBatch(BaseModel):
    # Plain FK indexes are left out where a composite index below starts with the column, and
    # the mostly-NULL ones are partial: every index costs each status update (expiry) a write.
    call = ForeignKeyField(Call, backref="batches", on_delete="CASCADE", index=False)
    reviewer_pool_entry = ForeignKeyField(
        ReviewerPoolEntry, backref="batches", on_delete="CASCADE", index=False
    )
    status = EnumField(BatchStatus, default=BatchStatus.DRAFT)
    source = EnumField(BatchSource, default=BatchSource.ALGORITHM)
    sent_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)
    responded_at = DateTimeField(null=True)
    created_by = ForeignKeyField(
        User, null=True, backref="created_batches", on_delete="SET NULL", index=False
    )
    manager_notes = TextField(default="")
    reminder_sent = BooleanField(default=False)
    manager_notified = BooleanField(default=False)

    class Meta:
        indexes = (
            (("status", "expires_at"), False),
            (("call", "status"), False),
            (("reviewer_pool_entry", "status"), False),
        )


class AssignmentItem(BaseModel):
    batch = ForeignKeyField(AssignmentBatch, backref="items", on_delete="CASCADE", index=False)
    proposal = ForeignKeyField(
        Proposal, backref="assignment_items", on_delete="CASCADE", index=False
    )
    status = EnumField(ItemStatus, default=ItemStatus.PENDING)
    affinity_score = DoubleField(null=True)
    has_coi = BooleanField(default=False)
    responded_at = DateTimeField(null=True)
    decline_reason = TextField(default="")
    review = ForeignKeyField(
        Review, null=True, backref="assignment_items", on_delete="SET NULL", index=False
    )
    reassigned_from = ForeignKeyField(
        "self", null=True, backref="reassigned_to", on_delete="SET NULL", index=False
    )
    reassign_count = IntegerField(default=0)
    override_reason = TextField(default="")
    override_by = ForeignKeyField(
        User, null=True, backref="overrides", on_delete="SET NULL", index=False
    )
    override_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("batch", "proposal"), True),
            (("proposal", "status"), False),
            (("status",), False),
        )


class ItemConflict(BaseModel):
    """The COI records that block one item."""

    item = ForeignKeyField(AssignmentItem, backref="conflict_links", on_delete="CASCADE")
    conflict = ForeignKeyField(ConflictOfInterest, backref="item_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("item", "conflict"), True),)


def _partial_fk_index(model: type[BaseModel], field: ForeignKeyField) -> None:
    model.add_index(model.index(field, where=field.is_null(False)))


_partial_fk_index(AssignmentBatch, AssignmentBatch.created_by)
for _field in (AssignmentItem.review, AssignmentItem.reassigned_from, AssignmentItem.override_by):
    _partial_fk_index(AssignmentItem, _field)
