"""One error contract per API family, never mixed, never a 500 for anything a caller sends.

Every rejection becomes a ReviewqError (tasks/errors.py) and is rendered in the shape of the
family of its path:

- `/api/` (seeds/000): Django REST framework's, as Waldur's tests assert them: field errors
  `{"<field>": ["<message>"]}` keyed by the offending field (query parameters and headers
  included), domain.md's `{"error": "..."}`, and `{"detail": "..."}` for 401 (with
  `WWW-Authenticate: Token`), 403, 404, 405, 413, 429, 503 and a body that is not JSON;
- `/v1/` (seeds/004): the envelope `{"error": {"code", "message", ...}}` for every error
  (`WWW-Authenticate: Bearer` on 401);
- any other path (the web pages, /docs): the error's own `body()`, as FastAPI answers.

A queued request stores the body its use case raised (`ReviewqError.body()`);
`stored_body` renders it in the family of the endpoint that reads it back.
"""

from __future__ import annotations

import json
import logging
from enum import Enum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tasks.errors import (
    NON_FIELD_ERRORS,
    BrokerUnavailable,
    HttpError,
    MalformedBody,
    ReviewqError,
    RuleViolation,
    TooManyFailedLogins,
    ValidationFailed,
)

logger = logging.getLogger(__name__)

#: the challenge each family answers a 401 with (DRF's TokenAuthentication for /api/)
CHALLENGES = {"api": "Token", "v1": "Bearer"}


class Family(Enum):
    API = "api"  # seeds/000, Django REST framework's shapes
    V1 = "v1"  # seeds/004, the envelope
    OTHER = "other"


def family_of(path: str) -> Family:
    if path == "/api" or path.startswith("/api/"):
        return Family.API
    if path == "/v1" or path.startswith("/v1/"):
        return Family.V1
    return Family.OTHER


def render(family: Family, exc: ReviewqError) -> dict[str, Any]:
    """The JSON body of `exc` in `family`'s shape."""
    if family is Family.API:
        return exc.drf()
    if family is Family.V1:
        return exc.envelope()
    return exc.body()


def error_response(request: Request, exc: ReviewqError) -> JSONResponse:
    """`exc` as the response of `request`, with the headers its status asks for."""
    family = family_of(request.url.path)
    headers: dict[str, str] = {}
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = CHALLENGES.get(family.value, "Token")
    if isinstance(exc, BrokerUnavailable | TooManyFailedLogins):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(render(family, exc), status_code=exc.http_status, headers=headers)


# --- FastAPI's own refusals as ReviewqErrors ---------------------------------------------------

#: pydantic's error types in DRF's field words
_DRF_WORDS = {
    "missing": "This field is required.",
    "string_type": "Not a valid string.",
    "int_parsing": "A valid integer is required.",
    "int_type": "A valid integer is required.",
    "int_from_float": "A valid integer is required.",
    "float_parsing": "A valid number is required.",
    "float_type": "A valid number is required.",
    "finite_number": "A valid number is required.",
    "bool_parsing": "Must be a valid boolean.",
    "bool_type": "Must be a valid boolean.",
    "uuid_parsing": "Must be a valid UUID.",
    "uuid_type": "Must be a valid UUID.",
    "datetime_parsing": "Datetime has wrong format.",
    "datetime_from_date_parsing": "Datetime has wrong format.",
    "datetime_type": "Datetime has wrong format.",
    "list_type": "Expected a list of items.",
    "model_attributes_type": "Invalid data. Expected a dictionary.",
    "dict_type": "Invalid data. Expected a dictionary.",
    "string_pattern_mismatch": "Null characters are not allowed.",
    "extra_forbidden": "Unexpected field.",
}


def _field(loc: tuple[Any, ...]) -> str:
    """A dotted field name without FastAPI's "body"/"query"/"path"/"header" prefix; a header
    keeps its HTTP name (`Idempotency-Key`)."""
    if not loc:
        return "body"
    where, rest = loc[0], [str(p) for p in loc[1:]]
    if where == "header" and rest:
        return "-".join(part.capitalize() for part in rest[0].replace("_", "-").split("-"))
    if where in ("body", "query", "path", "cookie"):
        return ".".join(rest) or ("body" if where == "body" else NON_FIELD_ERRORS)
    return ".".join(str(p) for p in loc)


def _message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return f"Ensure this field has no more than {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        return "This field may not be blank." if ctx.get("min_length") == 1 else str(error["msg"])
    if kind in ("greater_than_equal", "greater_than"):
        return f"Ensure this value is greater than or equal to {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"Ensure this value is less than or equal to {ctx.get('le', ctx.get('lt'))}."
    if kind == "too_long":
        return f"Ensure this field has no more than {ctx.get('max_length')} elements."
    if kind == "too_short":
        return "This list may not be empty."
    return _DRF_WORDS.get(kind, str(error.get("msg", "Invalid value.")))


def unsupported_media_type(content_type: str) -> HttpError:
    """A body sent as something other than JSON: 415, DRF's words."""
    return HttpError(415, f'Unsupported media type "{content_type}" in request.')


def not_json(content_type: str, raw: bytes | str) -> ReviewqError:
    """A body FastAPI did not parse as JSON: 415 when sent as another type; without a type, 400
    with the parse error if it is not JSON either, else 415."""
    if not content_type:
        try:
            json.loads(raw)
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            return MalformedBody(reason)
    return unsupported_media_type(content_type)


def validation_error(request: Request, exc: RequestValidationError) -> ReviewqError:
    """FastAPI's 422 as ours: a body that is not JSON is a MalformedBody (415 when it was not
    even sent as JSON); anything else a ValidationFailed naming every offending field."""
    errors = list(exc.errors())
    for error in errors:
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            return MalformedBody(str(ctx.get("error") or "invalid JSON"))
        raw = error.get("input")
        if tuple(error.get("loc", ())) == ("body",) and isinstance(raw, bytes | str):
            return not_json(request.headers.get("content-type", ""), raw)
    return ValidationFailed(
        [{"field": _field(tuple(e.get("loc", ()))), "message": _message(e)} for e in errors]
    )


class Refusal(StarletteHTTPException):
    """A ReviewqError raised where only an HTTPException passes unchanged (inside `receive`,
    which FastAPI's body reading would otherwise call a parse error)."""

    def __init__(self, error: ReviewqError) -> None:
        super().__init__(status_code=error.http_status, detail=error.message)
        self.error = error


def http_error(request: Request, exc: StarletteHTTPException) -> ReviewqError:
    """Starlette's refusals (unknown path, method not allowed, ...) in DRF's words."""
    if isinstance(exc, Refusal):
        return exc.error
    if exc.status_code == 405:
        message = f'Method "{request.method}" not allowed.'
    elif exc.status_code == 404:
        message = exc.detail if exc.detail not in ("Not Found", None) else "Not found."
    else:
        message = exc.detail if isinstance(exc.detail, str) else "Error."
    return HttpError(exc.status_code, str(message))


# --- a stored answer (a queued request's result) in the family that reads it ----------------


class StoredError(ReviewqError):
    """An error known by its code and status (a stored answer, an unexpected failure)."""

    def __init__(self, code: str, status: int, message: str, details: dict[str, Any]) -> None:
        super().__init__(message, **details)
        self.code, self.http_status = code, status


def _from_stored(body: dict[str, Any], status: int) -> ReviewqError:
    """The error a stored body was made from, in either family's shape."""
    inner = body.get("error")
    if isinstance(inner, dict):
        message = str(inner.get("message", ""))
        if isinstance(inner.get("errors"), list):
            return ValidationFailed([dict(e) for e in inner["errors"]])
        details = {k: v for k, v in inner.items() if k not in ("code", "message")}
        return StoredError(str(inner.get("code", "ERROR")), status, message, details)
    if isinstance(inner, str):
        return RuleViolation(inner)
    if isinstance(body.get("detail"), str):
        return HttpError(status, body["detail"])
    errors = [
        {"field": str(field), "message": str(message)}
        for field, messages in body.items()
        for message in (messages if isinstance(messages, list) else [messages])
    ]
    return ValidationFailed(errors)


def stored_body(path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
    """A queued request's stored answer as the endpoint at `path` answers it: unchanged when it
    succeeded, in the family's error shape when it failed."""
    if status < 400 or family_of(path) is Family.OTHER:
        return body
    return render(family_of(path), _from_stored(body, status))


def install_error_handlers(app: FastAPI) -> None:
    """Route every refusal through `error_response`."""

    @app.exception_handler(ReviewqError)
    async def domain_error(request: Request, exc: ReviewqError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, validation_error(request, exc))

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(request, http_error(request, exc))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        error = StoredError("INTERNAL_ERROR", 500, "An unexpected error occurred.", {})
        return error_response(request, error)
