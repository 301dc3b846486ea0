"""Queued assignment requests: what a producer asked for and what came of it."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from store.base import BaseModel
from store.enums import RequestKind, RequestStatus
from store.fields import EnumField, JSONField
from store.people import User


class AssignmentRequest(BaseModel):
    kind = EnumField(RequestKind)
    idempotency_key = CharField(max_length=200, null=True, unique=True)
    payload = JSONField(null=True)
    status = EnumField(RequestStatus, default=RequestStatus.QUEUED, index=True)
    http_status = IntegerField(null=True)
    result = JSONField(null=True)
    error = JSONField(null=True)
    requested_by = ForeignKeyField(User, null=True, backref="requests", on_delete="SET NULL")
    attempts = IntegerField(default=0)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
