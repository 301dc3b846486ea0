"""The shapes of reviewq's queue messages, validated with pydantic.

- A queued request (queue `assignments`): `{"request": BODY, "request_id": UUID?,
  "idempotency_key": STR?}`, the actor's one positional argument (or its keyword `message`).
  BODY is the seeds/004 body (tasks/bulk/body.py) or a generate-assignments body
  (`GenerateRequestBody`). `parse_request_message` checks the whole message before anything
  touches the store: the arguments, the envelope, and every string and key of the body (no NUL,
  no lone surrogate, no nesting past MAX_DEPTH): a message that fails is an input error, recorded
  once as VALIDATION_ERROR on a request row and never retried.
- A scheduler job's message (queue `scheduled`): `{"ids": [int, ...], "now": ISO-8601,
  "within_days"?}`: the records the job found and the instant its clock read.
- An outbox delivery (queue `mail`): the notification id alone (workers/delivery.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from store import AssignmentRequest
from store.clock import to_naive_utc, utcnow
from tasks.errors import ValidationFailed, pydantic_errors
from tasks.rules import MAX_REVIEWERS_PER_PROPOSAL

Id = Annotated[str, Field(min_length=1, max_length=200)]
MAX_IDS_PER_MESSAGE = 1000
#: How deep a request body may nest (a seeds/004 body is three levels deep).
MAX_DEPTH = 32
#: The one keyword argument a request actor takes instead of its positional message.
MESSAGE_KEYWORD = "message"


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (NUL, lone surrogate), or None."""
    if "\x00" in value:
        return "must not contain a NUL character"
    if any("\ud800" <= char <= "\udfff" for char in value):
        return "must be valid Unicode (a lone surrogate)"
    return None


def text_problems(value: Any, path: str = "", depth: int = 0) -> list[dict[str, str]]:
    """Every string or key of a JSON value that no store can keep, by dotted path ("body"
    for the top), and nesting past MAX_DEPTH."""
    here = path or "body"
    if depth > MAX_DEPTH:
        return [{"field": here, "message": f"nested deeper than {MAX_DEPTH} levels"}]
    if isinstance(value, str):
        problem = text_problem(value)
        return [{"field": here, "message": problem}] if problem else []
    out: list[dict[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_problem = text_problem(str(key))
            if key_problem is not None:
                out.append({"field": here, "message": f"a key {key_problem}"})
                continue
            out += text_problems(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for index, item in enumerate(value):
            out += text_problems(item, f"{path}.{index}" if path else str(index), depth + 1)
    return out


class RequestEnvelope(BaseModel):
    """The message of every assignment-request actor."""

    model_config = ConfigDict(extra="forbid")

    request: Any
    request_id: UUID | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("idempotency_key")
    @classmethod
    def _storable_key(cls, value: str | None) -> str | None:
        problem = None if value is None else text_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


@dataclass(frozen=True)
class RequestMessage:
    """A request actor's arguments, checked: the envelope when it is one (None when not even
    that), and the input error to record (None when the message may run)."""

    raw: Any
    envelope: RequestEnvelope | None
    error: ValidationFailed | None


def parse_request_message(args: Sequence[Any], kwargs: Mapping[str, Any]) -> RequestMessage:
    """Check a request actor's arguments and message; never raises for bad input."""
    candidates = [*args, *([kwargs[MESSAGE_KEYWORD]] if MESSAGE_KEYWORD in kwargs else [])]
    raw: Any = candidates[0] if len(candidates) == 1 else {"args": list(args), "kwargs": kwargs}
    errors = [
        {"field": f"kwargs.{key}", "message": "unknown keyword argument"}
        for key in kwargs
        if key != MESSAGE_KEYWORD
    ]
    if len(candidates) != 1:
        errors.append(
            {"field": "args", "message": f"expected one message object, got {len(candidates)}"}
        )
    if errors:
        return RequestMessage(raw, None, ValidationFailed(errors))
    if not isinstance(raw, dict):
        error = [{"field": "message", "message": "must be a JSON object"}]
        return RequestMessage(raw, None, ValidationFailed(error))
    try:
        envelope = RequestEnvelope.model_validate(raw)
    except ValidationError as exc:
        return RequestMessage(raw, None, ValidationFailed(pydantic_errors(exc)))
    problems = text_problems(envelope.request)
    return RequestMessage(raw, envelope, ValidationFailed(problems) if problems else None)


def request_refs(args: Sequence[Any]) -> set[str]:
    """How a request actor's arguments name their request: `id:<uuid>` and `key:<idempotency
    key>` (what `_find_or_create` matches on), for finding the requests with a live message."""
    message = args[0] if len(args) == 1 and isinstance(args[0], Mapping) else {}
    refs = set()
    if message.get("request_id"):
        refs.add(f"id:{message['request_id']}")
    if message.get("idempotency_key"):
        refs.add(f"key:{message['idempotency_key']}")
    return refs


def refs_of(request: AssignmentRequest) -> set[str]:
    """The refs (`request_refs`) a message for `request` could carry."""
    refs = {f"id:{request.uuid}"}
    if request.idempotency_key:
        refs.add(f"key:{request.idempotency_key}")
    return refs


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
