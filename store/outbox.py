"""The outbox: every e-mail is a row here first, written with the change that causes it."""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField, TextField

from store.base import BaseModel
from store.enums import NotificationKind, NotificationStatus
from store.fields import EnumField


class Notification(BaseModel):
    kind = EnumField(NotificationKind)
    recipient = CharField(max_length=320)
    recipient_name = CharField(max_length=300, default="")
    subject = CharField(max_length=500)
    text_body = TextField()
    html_body = TextField()
    dedupe_key = CharField(max_length=255, unique=True)
    status = EnumField(NotificationStatus, default=NotificationStatus.PENDING)
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    next_attempt_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "claimed_at"), False),)
