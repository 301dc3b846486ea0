"""Users (who act) and reviewers (who review)."""

from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, TextField

from store.base import ExternalModel
from store.fields import JSONField


class User(ExternalModel):
    username = CharField(max_length=150, unique=True)
    email = CharField(max_length=320, default="")
    full_name = CharField(max_length=300, default="")
    is_staff = BooleanField(default=False)
    token_hash = CharField(max_length=128, null=True, unique=True)


class Reviewer(ExternalModel):
    user = ForeignKeyField(User, null=True, backref="reviewer_profiles", on_delete="SET NULL")
    name = CharField(max_length=300)
    email = CharField(max_length=320)
    organization = CharField(max_length=300, default="")
    expertise = JSONField(default=list)
    #: free attributes for the call's attribute constraints, e.g. {"senior": "yes"}
    attributes = JSONField(default=dict)
    biography = TextField(default="")
    available_for_reviews = BooleanField(default=True)
