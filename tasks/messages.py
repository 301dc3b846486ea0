"""The shapes of reviewq's queue messages, validated with pydantic.

- A queued request (queue `assignments`): `{"request": BODY, "request_id": UUID?,
  "idempotency_key": STR?}`. BODY is the seeds/004 body (tasks/bulk/body.py) or a
  generate-assignments body (`GenerateRequestBody`).
- A scheduler job's message (queue `scheduled`): `{"ids": [int, ...], "now": ISO-8601,
  "within_days"?}`: the records the job found and the instant its clock read.
- An outbox delivery (queue `mail`): the notification id alone (workers/delivery.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from store import AssignmentRequest
from store.clock import to_naive_utc, utcnow
from tasks.errors import ValidationFailed, pydantic_errors
from tasks.rules import MAX_REVIEWERS_PER_PROPOSAL

Id = Annotated[str, Field(min_length=1, max_length=200)]
MAX_IDS_PER_MESSAGE = 1000


class RequestEnvelope(BaseModel):
    """The message of every assignment-request actor."""

    model_config = ConfigDict(extra="forbid")

    request: Any
    request_id: UUID | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


def message_for(request: AssignmentRequest) -> dict[str, Any]:
    """The actor message that runs `request`."""
    return {
        "request": request.payload,
        "request_id": str(request.uuid),
        "idempotency_key": request.idempotency_key,
    }


class GenerateRequestBody(BaseModel):
    """The body of a queued generate-assignments request; its result is exactly the HTTP
    answer of generate-assignments."""

    model_config = ConfigDict(extra="forbid")

    call: Id
    acting_user: Id
    proposal_uuids: list[Id] | None = Field(default=None, max_length=100_000)
    reviewers_per_proposal: int | None = Field(
        default=None, ge=1, le=MAX_REVIEWERS_PER_PROPOSAL, strict=True
    )
    algorithm: str | None = None


def parse_generate_request(raw: Any) -> GenerateRequestBody:
    """Validate a body; ValidationFailed names every offending field."""
    if not isinstance(raw, dict):
        raise ValidationFailed([{"field": "request", "message": "must be a JSON object"}])
    try:
        return GenerateRequestBody.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(pydantic_errors(exc)) from None


class InvalidScheduledMessageError(ValueError):
    """The message is not `{"ids": [...], "now": ...}`: retrying cannot help."""


class IdsMessage(BaseModel):
    """Records found by one scheduler job, and the instant its clock read."""

    model_config = ConfigDict(extra="forbid")

    ids: list[StrictInt] = Field(min_length=1, max_length=MAX_IDS_PER_MESSAGE)
    now: datetime
    within_days: float | None = Field(default=None, ge=0)

    def acting_time(self) -> datetime:
        """The later of the message's `now` and the real clock: a backlog never sends a
        reminder after the deadline, and an injected clock ahead of the real one still counts."""
        return max(to_naive_utc(self.now), utcnow())


def ids_message(ids: list[int], now: datetime, **extra: Any) -> dict[str, Any]:
    """The JSON-safe message for these ids at `now`."""
    return IdsMessage(ids=ids, now=now, **extra).model_dump(mode="json", exclude_none=True)


def parse_ids_message(message: Any) -> IdsMessage:
    """The validated message, or InvalidScheduledMessageError naming the fields at fault."""
    try:
        return IdsMessage.model_validate(message)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) or "message" for e in exc.errors()})
        raise InvalidScheduledMessageError(f"invalid scheduled message: {fields}") from exc
