"""seeds/004 `POST /v1/reviews/assign`, and reading a queued request back.

A queued request (bulk assign, generate-assignments) waits for its result by default and answers
with the result's own status and body; with `Prefer: respond-async`, or when the wait runs past
REVIEWQ_API_WAIT_SECONDS (default 30; a `Prefer: wait=N` shortens it), it answers 202 with the
request JSON and a `Location` of `GET /v1/assignment-requests/{id}`.

An `Idempotency-Key` header (IETF httpapi idempotency-key draft) is the request's idempotency
key: the same key with the same body answers the first request's result; with another body, or
from another user, or for another kind of request, it is 422 IDEMPOTENCY_KEY_MISMATCH in the
family's shape, and nothing is recorded or enqueued (tasks/requests/lifecycle.py).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentUser
from api.errors import not_json, stored_body
from api.serializers.requests import AssignOut, RequestOut, request_out
from store import AssignmentRequest, User
from store.clock import to_naive_utc
from store.enums import FINISHED_REQUEST_STATUSES
from store.lookups import as_uuid
from tasks.access import reviews_not_managed
from tasks.bulk.body import AssignReviewsBody, parse_assign_request
from tasks.errors import NotFound, ReviewsNotFound, ValidationFailed
from tasks.mail.outbox import public_url
from tasks.producers import enqueue_assign_reviews
from tasks.requests.lifecycle import RequestTimeout, wait_for_request

DEFAULT_WAIT_SECONDS = 30.0
WAIT_ENV = "REVIEWQ_API_WAIT_SECONDS"
REQUESTS_PATH = "/v1/assignment-requests/"

PreferHeader = Annotated[
    str | None,
    Header(description="`respond-async`: answer 202 at once; `wait=N`: wait at most N s."),
]
IdempotencyKey = Annotated[str | None, Header(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]

router = APIRouter(tags=["reviews"])


def queued_responses(model: Any) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a queued request: its answer, or 202 with the request and a Location."""
    return {
        200: {"model": model},
        202: {"model": RequestOut, "description": "Queued: read the result at `Location`."},
    }


def _preferences(prefer: str | None) -> dict[str, str]:
    """RFC 7240 preferences: `respond-async, wait=10` -> {"respond-async": "", "wait": "10"}."""
    out: dict[str, str] = {}
    for part in (prefer or "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            out[name.strip().lower()] = value.strip().strip('"')
    return out


def wait_seconds(preferences: dict[str, str]) -> float:
    """How long to wait for a result: the configured limit, or less if `Prefer: wait=N`."""
    try:
        limit = float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS))
    except ValueError:
        limit = DEFAULT_WAIT_SECONDS
    try:
        asked = float(preferences.get("wait", limit))
    except ValueError:
        asked = limit
    return max(0.0, min(asked, limit))


def accepted(request: AssignmentRequest) -> JSONResponse:
    """202 with the request as it stands and where to read it back."""
    current = AssignmentRequest.get_by_id(request.id)
    headers = {
        "Location": f"{public_url()}{REQUESTS_PATH}{current.uuid}",
        "Preference-Applied": "respond-async",
    }
    body = request_out(current).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers=headers)


def queued_answer(path: str, request: AssignmentRequest, prefer: str | None) -> JSONResponse:
    """The answer to a queued request made at `path`: its result once finished (a failure in
    that API family's shape), or 202 (see the module)."""
    preferences = _preferences(prefer)
    if "respond-async" in preferences:
        return accepted(request)
    try:
        # a request this call just queued is listened for before it is read (one read fewer)
        done = wait_for_request(
            request.uuid,
            timeout=wait_seconds(preferences),
            read_first=request.status in FINISHED_REQUEST_STATUSES,
        )
    except RequestTimeout:
        return accepted(request)
    status = done.http_status or 200
    return JSONResponse(stored_body(path, done.result, status), status_code=status)


def _reject_nul(value: Any, field: str = "body") -> None:
    """PostgreSQL stores no NUL character: refuse one anywhere in the body, naming the field."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationFailed([{"field": field, "message": "must not contain NUL characters"}])
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key, field)
            _reject_nul(item, f"{field}.{key}" if field != "body" else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_nul(item, f"{field}.{index}")


def _check_assign_request(user: User, raw: Any, content_type: str) -> None:
    """Refuse now what the worker would refuse anyway, and reviews the user may not touch."""
    if isinstance(raw, bytes):  # FastAPI hands over a body it was not told is JSON as bytes
        raise not_json(content_type, raw)
    _reject_nul(raw)
    body, _strategy = parse_assign_request(raw)
    if body.deadline is not None:
        try:
            to_naive_utc(body.deadline)
        except OverflowError:
            message = "Date out of range once converted to UTC."
            raise ValidationFailed([{"field": "deadline", "message": message}]) from None
    hidden = reviews_not_managed(user, body.reviewIds)
    if hidden:
        raise ReviewsNotFound(hidden)


def _inlined(schema: Any, defs: dict[str, Any] | None = None) -> Any:
    """A JSON schema with its local `$defs` references inlined (OpenAPI has no `$defs`)."""
    if defs is None and isinstance(schema, dict):
        defs = schema.pop("$defs", {})
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and defs is not None:
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inlined(value, defs) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(value, defs) for value in schema]
    return schema


ASSIGN_BODY = {
    "required": True,
    "content": {"application/json": {"schema": _inlined(AssignReviewsBody.model_json_schema())}},
}


@router.post(
    "/v1/reviews/assign",
    summary="Assign Reviews",
    description="Bulk assign multiple reviews to reviewers (seeds/004).",
    openapi_extra={"requestBody": ASSIGN_BODY},
    responses=queued_responses(AssignOut),
)
def assign_reviews(
    http: Request,
    user: CurrentUser,
    raw: Annotated[Any, Body()],
    prefer: PreferHeader = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    _check_assign_request(user, raw, http.headers.get("content-type", ""))
    request = enqueue_assign_reviews(raw, idempotency_key=idempotency_key, requested_by=user.id)
    return queued_answer(http.url.path, request, prefer)


@router.get(
    REQUESTS_PATH + "{request_id}",
    summary="A queued assignment request and its result",
    response_class=JSONResponse,
)
def get_assignment_request(user: CurrentUser, request_id: str) -> RequestOut:
    parsed = as_uuid(request_id)
    request = AssignmentRequest.get_or_none(AssignmentRequest.uuid == parsed) if parsed else None
    if request is None or not (user.is_staff or request.requested_by_id == user.id):
        raise NotFound("assignment request")
    return request_out(request)
