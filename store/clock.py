"""Time as the store keeps it: naive UTC datetimes, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current instant as a naive UTC datetime (the form every column holds)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(value: datetime) -> datetime:
    """Convert an aware datetime to naive UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def isoformat_z(value: datetime | None) -> str | None:
    """ISO 8601 with a `Z`, as the seeds print instants."""
    if value is None:
        return None
    return to_naive_utc(value).isoformat(timespec="seconds") + "Z"
