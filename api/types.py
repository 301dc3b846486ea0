"""The field types every router and serializer shares: what a caller may send, how we answer.

Inputs refuse NUL characters (PostgreSQL text cannot hold them) and instants the store cannot
hold; answers print instants as the seeds do (`isoformat_z`: seconds, UTC, a `Z`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, Field, PlainSerializer, WithJsonSchema

from store.clock import isoformat_z, to_naive_utc
from tasks.batches.listing import uuid_field

NO_NUL = r"^[^\x00]*$"

#: an id (uuid or external id) as a caller may send it
Token = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
#: free text (notes, reasons)
Text = Annotated[str, Field(max_length=10_000, pattern=NO_NUL)]


def _utc_representable(value: datetime) -> datetime:
    try:
        to_naive_utc(value)
    except OverflowError:
        raise ValueError("Date out of range once converted to UTC.") from None
    return value


def _printable(value: str) -> str:
    # refused here, naming the field, rather than by PostgreSQL later
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


#: free text whose NUL refusal names the field in plain words (the items' bodies)
PlainText = Annotated[str, AfterValidator(_printable), Field(max_length=10_000)]
#: an instant the store can hold: with its offset applied it stays within years 1 to 9999
Instant = Annotated[datetime, AfterValidator(_utc_representable)]
#: a repeatable choice in the query string (any of them)
QueryChoices = Annotated[list[Token], Query()]
#: a uuid filter of a list: checked by `uuid_params`, so every list refuses a bad one alike
QueryUuid = Annotated[str | None, Query(description="A uuid; empty: no filter.")]


def uuid_params(**params: str | None) -> dict[str, str | None]:
    """The uuid filters of a list as given, empty ones as absent (django-filter skips them).
    Raises FieldRejected keyed by the first parameter that is not a uuid, in django-filter's
    words: 400 `{"call_uuid": ["Enter a valid UUID."]}`."""
    given = {name: value or None for name, value in params.items()}
    for name, value in given.items():
        if value is not None:
            uuid_field(name, value)
    return given


def _wire_instant(value: datetime) -> str:
    return str(isoformat_z(value))


#: an instant in an answer, as the seeds print it: `2026-03-01T12:00:00Z`
WireInstant = Annotated[
    datetime,
    PlainSerializer(_wire_instant, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
