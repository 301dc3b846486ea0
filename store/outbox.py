"""The outboxes: every e-mail (`Notification`) and every queue message sent after a commit
(`OutboundMessage`) is a row here first, written with the change that causes it."""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField, TextField

from store.base import BaseModel
from store.enums import NotificationKind, NotificationStatus
from store.fields import EnumField, JSONField


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


class OutboundMessage(BaseModel):
    """The message outbox: a queue message written in the transaction of the change that
    calls for it, sent after the commit (`sent_at`), and sent again by the scheduler's
    `redrive_requests` while it is not. The actor it names must be safe to run twice."""

    actor_name = CharField(max_length=200)
    queue_name = CharField(max_length=200)
    args = JSONField()
    sent_at = DateTimeField(null=True)
    attempts = IntegerField(default=0)

    class Meta:
        table_name = "outbound_message"
        indexes = ((("sent_at", "created"), False),)
