"""Column types peewee lacks on both SQLite and PostgreSQL: enums and JSON."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from peewee import CharField, TextField


class EnumField(CharField):
    """A `str` Enum stored as its value."""

    def __init__(self, enum: type[Enum], **kwargs: Any) -> None:
        self.enum = enum
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return self.enum(value).value

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        return self.enum(value)


class JSONField(TextField):
    """Any JSON-safe value, stored as text so SQLite and PostgreSQL behave alike."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"))

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.loads(value)
