"""The base model: integer key for joins, a public `uuid`, timestamps."""

from __future__ import annotations

import uuid as uuid_module
from typing import Any

from peewee import CharField, DateTimeField, Model, UUIDField

from store.clock import utcnow
from store.db import database


class BaseModel(Model):
    uuid = UUIDField(unique=True, default=uuid_module.uuid4)
    created = DateTimeField(default=utcnow, index=True)
    modified = DateTimeField(default=utcnow)

    class Meta:
        database = database
        legacy_table_names = False

    def save(self, *args: Any, **kwargs: Any) -> int:
        self.modified = utcnow()
        return super().save(*args, **kwargs)


class ExternalModel(BaseModel):
    """A record that producers create: it may carry their own unique `external_id`."""

    external_id = CharField(max_length=200, null=True, unique=True)

    @property
    def public_id(self) -> str:
        """The id producers know this record by: their external id, else the uuid."""
        return self.external_id or str(self.uuid)
