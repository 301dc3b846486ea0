"""Reviews (the unit of review work of seeds/004) and the round-robin rotation per pool."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from store.base import BaseModel, ExternalModel
from store.calls import Proposal
from store.enums import Priority, ReviewState
from store.fields import EnumField
from store.people import Reviewer


class Review(ExternalModel):
    proposal = ForeignKeyField(Proposal, backref="reviews", on_delete="CASCADE")
    reviewer = ForeignKeyField(Reviewer, null=True, backref="reviews", on_delete="SET NULL")
    state = EnumField(ReviewState, default=ReviewState.UNASSIGNED)
    priority = EnumField(Priority, default=Priority.NORMAL)
    deadline = DateTimeField(null=True)
    assigned_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("reviewer", "state"), False),)


class RoundRobinCursor(BaseModel):
    """Where the rotation of one pool (an ordered list of reviewers) stands between requests."""

    pool_key = CharField(max_length=64, unique=True)
    position = IntegerField(default=0)
